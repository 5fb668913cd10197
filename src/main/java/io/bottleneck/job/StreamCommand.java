package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.predict.Scoring;
import io.bottleneck.predict.stream.BatchSink;
import io.bottleneck.predict.stream.CatalogBatchSink;
import io.bottleneck.predict.stream.FileBatchSink;
import io.bottleneck.predict.stream.JdbcBatchSink;
import io.bottleneck.predict.stream.StreamCheckpoint;
import io.bottleneck.predict.stream.StreamingPredictions;
import io.bottleneck.warehouse.WarehouseTargets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "stream",
    mixinStandardHelpOptions = true,
    description = {
      "Predicts the images that arrive in --input, as a Spark Structured Streaming query: each",
      "micro-batch's new files are decoded (rejects kept, with reasons), featurized through the",
      "cache and scored, and the rows (predict's, plus ingested_at and batch_id) written exactly",
      "once to --output (run_id=<id>/batch_id=<n>), the catalog table --table and/or the JDBC table",
      "of --jdbc-url, keyed by (run_id, batch_id). The checkpoint records the files read and the",
      "batches written: a restart with it continues where the last run stopped."
    })
final class StreamCommand extends JobCommand {
  @Mixin ScoringOptions scoring;

  @Option(names = "--input", paramLabel = "URI", description = "Folder whose new images are predicted, recursively (key: input).")
  String input;

  @Option(names = "--checkpoint", paramLabel = "URI", description = "Checkpoint folder of the query, one per stream (key: stream.checkpoint).")
  String checkpoint;

  @Option(names = "--table", paramLabel = "NAME", description = "Catalog table, partitioned by (run_id, batch_id); rejects in NAME_rejects (key: predict.table).")
  String table;

  @Option(names = "--output", paramLabel = "DIR", description = "Output folder; rejects under DIR/_rejects (key: output).")
  String output;

  @Option(names = "--format", paramLabel = "parquet|csv", description = "File format under --output (key: predict.format).")
  String format;

  @Option(names = "--jdbc-url", paramLabel = "URL", description = "JDBC database, user and password from the config file or BOTTLENECK_JDBC_USER/BOTTLENECK_JDBC_PASSWORD; rejects in <table>_rejects (key: predict.jdbc.url).")
  String jdbcUrl;

  @Option(names = "--trigger", paramLabel = "available-now|processing-time:<interval>", description = "available-now: process the new files and exit; processing-time:30s: a batch per interval until SIGTERM (key: stream.trigger).")
  String trigger;

  @Option(names = "--max-files-per-trigger", paramLabel = "N", description = "New files per micro-batch, at most (key: stream.max-files-per-trigger).")
  Integer maxFilesPerTrigger;

  @Option(names = "--run-id", paramLabel = "ID", description = "Run id of the stream, the Spark UI's query name; kept in the checkpoint (key: run-id).")
  String runId;

  @Override
  void options(Map<String, Object> keys) {
    scoring.options(keys);
    keys.put("input", input);
    keys.put("stream.checkpoint", checkpoint);
    keys.put("predict.table", table);
    keys.put("output", output);
    keys.put("predict.format", format);
    keys.put("predict.jdbc.url", jdbcUrl);
    keys.put("stream.trigger", trigger);
    keys.put("stream.max-files-per-trigger", maxFilesPerTrigger);
    keys.put("run-id", runId);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.model, "--model", "model");
    requireModelList(cfg.model);
    require(cfg.input, "--input", "input");
    require(cfg.streamCheckpoint, "--checkpoint", "stream.checkpoint");
    if (cfg.output.isEmpty() && cfg.predictTable.isEmpty() && cfg.jdbcUrl.isEmpty()) {
      throw new ConfigError(
          "stream needs --output, --table or --jdbc-url (keys bottleneck.output, bottleneck.predict.table,"
              + " bottleneck.predict.jdbc.url)");
    }
  }

  @Override
  boolean needsCatalog(JobConfig cfg) {
    return !cfg.predictTable.isEmpty();
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    StreamingPredictions stream = prepare(spark, cfg);
    StreamingPredictions.Outcome outcome = stream.run();
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("run_id", stream.runId());
    report.put("checkpoint", HadoopFiles.qualify(cfg.streamCheckpoint, spark));
    report.put("batches", outcome.batches());
    report.put("files", outcome.files());
    report.put("predicted", outcome.accepted());
    report.put("rejected", outcome.rejected());
    report.put("stopped", outcome.stopped());
    if (!cfg.output.isEmpty()) {
      report.put("output", HadoopFiles.qualify(cfg.output, spark));
    }
    if (!cfg.predictTable.isEmpty()) {
      report.put("table", cfg.predictTable);
    }
    if (!cfg.jdbcUrl.isEmpty()) {
      report.put("jdbc_table", cfg.jdbcTable);
    }
    System.out.println(Json.oneLine(report));
    return Main.OK;
  }

  /**
   * Everything short of starting the query: the bundles loaded, the checkpoint's run id, every
   * target checked. What is wrong with the configuration is a {@link ConfigError} (exit 2)
   * naming the option.
   */
  static StreamingPredictions prepare(SparkSession spark, JobConfig cfg) throws Exception {
    List<ModelBundle> bundles;
    try {
      bundles = Scoring.loadBundles(spark, cfg.model);
    } catch (Exception e) {
      throw new ConfigError("--model (key bottleneck.model): cannot load model bundle " + cfg.model + ": " + e.getMessage(), e);
    }
    String input = HadoopFiles.qualify(cfg.input, spark);
    if (!HadoopFiles.exists(input, spark.sparkContext().hadoopConfiguration())) {
      throw new ConfigError("--input (key bottleneck.input): " + input + " does not exist");
    }
    String checkpointUri = HadoopFiles.qualify(cfg.streamCheckpoint, spark);
    Object givenRunId = cfg.effective.get("run-id");
    StreamCheckpoint checkpoint =
        StreamCheckpoint.open(checkpointUri, givenRunId == null ? "" : givenRunId.toString(), cfg.runId, input,
            spark.sparkContext().hadoopConfiguration());
    String cacheRoot = FeatureStage.featureCache(spark, cfg);
    List<String> classes = bundles.get(0).classes();
    String modelId = Scoring.modelId(bundles);
    StreamingPredictions.BatchScorer scorer =
        new StreamingPredictions.BatchScorer() {
          @Override
          public StreamingPredictions.Scored score(Dataset<Row> images) {
            Scoring.Scored scored = Scoring.score(spark, images, bundles, cfg, cacheRoot);
            return new StreamingPredictions.Scored(
                PredictionWriter.publishedRows(
                    scored.rows(), classes, modelId, checkpoint.runId(), Timestamp.from(Instant.now())),
                scored);
          }

          @Override
          public StructType schema() {
            StructType scored =
                new StructType()
                    .add(Columns.PATH, DataTypes.StringType)
                    .add(Columns.CONTENT_HASH, DataTypes.StringType)
                    .add(Columns.PREDICTION, DataTypes.StringType)
                    .add(Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));
            return PredictionWriter.publishedRows(
                    spark.createDataFrame(List.of(), scored), classes, modelId, checkpoint.runId(), new Timestamp(0))
                .schema();
          }
        };
    List<BatchSink> sinks = new ArrayList<>();
    if (!cfg.output.isEmpty()) {
      sinks.add(new FileBatchSink(spark, HadoopFiles.qualify(cfg.output, spark), cfg.predictFormat));
    }
    if (!cfg.predictTable.isEmpty()) {
      sinks.add(new CatalogBatchSink(spark, cfg.predictTable));
    }
    if (!cfg.jdbcUrl.isEmpty()) {
      sinks.add(new JdbcBatchSink(WarehouseTargets.jdbcTarget(cfg)));
    }
    StreamingPredictions stream =
        new StreamingPredictions(
            spark,
            new StreamingPredictions.Settings(
                input, checkpoint, cfg.streamIntervalMillis, cfg.streamMaxFilesPerTrigger, cfg.exifOrientation),
            scorer,
            sinks);
    try {
      stream.check();
    } catch (IllegalStateException e) {
      String option = e.getMessage().startsWith("JDBC") ? "--jdbc-url" : e.getMessage().startsWith("Folder") || e.getMessage().startsWith("folder") ? "--output" : "--table";
      throw new ConfigError(option + ": " + e.getMessage(), e);
    }
    return stream;
  }
}
