package io.bottleneck.predict;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.warehouse.RunPartition;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Batch prediction of unlabeled images with a bundle (or several, averaged), as the predict and
 * pipeline commands run it: ingest, score, then each {@link PredictionSink} the configuration
 * names in turn.
 */
public final class BatchPredictions {
  private static final Logger LOG = LoggerFactory.getLogger(BatchPredictions.class);

  /**
   * @param output the qualified output folder, or empty when no files were written
   * @param summary rows per predicted label and the confidence histogram ({@link
   *     #predictionSummary}), computed on the rows as written
   */
  public record Outcome(
      long predicted, long rejected, String output, String table, Map<String, Object> summary, long skipped) {}

  private BatchPredictions() {}

  /**
   * @param bundles one model, or several whose probabilities are averaged ({@link Scoring})
   * @param output directory for files (partitioned by run_id), or empty for none
   * @param table catalog table, or empty for none (the JDBC target, if any, comes from cfg's predict.jdbc.*)
   */
  public static Outcome run(
      SparkSession spark, JobConfig cfg, List<ModelBundle> bundles, String input, String output, String table,
      String featureCache) throws Exception {
    // ImageIngest logs the counts
    IngestResult ingested = ImageIngest.ingest(spark, input, "none", cfg.exifOrientation);
    String qualifiedOutput = output.isEmpty() ? "" : HadoopFiles.qualify(output, spark);
    List<PredictionSink> sinks = PredictionSink.configured(spark, cfg, qualifiedOutput, table);
    List<String> classes = bundles.get(0).classes();
    long predicted;
    Map<String, Object> summary;
    Dataset<Row> images = ingested.images();
    long skipped = 0;
    if (cfg.skipExisting) {
      Dataset<Row> existing = existingHashes(sinks, Scoring.modelId(bundles), cfg.runId);
      images = ExistingPredictions.withoutExisting(images, existing).persist();
      skipped = ingested.accepted() - images.count();
      LOG.info("predict: {} of {} images skipped, the target holds their predictions by model {}",
          skipped, ingested.accepted(), Scoring.modelId(bundles));
      if (skipped == ingested.accepted()) {
        for (PredictionSink sink : sinks) {
          sink.writeRejects(ingested, cfg.runId);
        }
        images.unpersist();
        ingested.close();
        return new Outcome(0, ingested.rejected(), qualifiedOutput, table, Map.of(), skipped);
      }
    }
    // the featurized rows stay cached until every sink is written, and are freed on failure too
    try (Scoring.Scored scored = Scoring.score(spark, images, bundles, cfg, featureCache)) {
      Dataset<Row> rows =
          PredictionWriter.publishedRows(
                  scored.rows(), classes, Scoring.modelId(bundles), cfg.runId, Timestamp.from(Instant.now()))
              .persist();
      try {
        predicted = rows.count();
        RunPartition partition = new RunPartition(cfg.runDate, cfg.runId);
        for (PredictionSink sink : sinks) {
          sink.write(rows, partition);
          sink.writeRejects(ingested, cfg.runId);
        }
        summary = predictionSummary(rows, classes);
      } finally {
        rows.unpersist();
      }
    }
    LOG.info("predict: {} images predicted, {} rejected", predicted, ingested.rejected());
    if (cfg.skipExisting) {
      images.unpersist(); // the images not yet predicted, persisted above
    }
    ingested.close();
    return new Outcome(predicted, ingested.rejected(), qualifiedOutput, table, summary, skipped);
  }

  /**
   * The content hashes the target holds for this model from other runs, from the sink of the
   * lowest {@link PredictionSink#lookupRank}: the catalog table if one is given, else the JDBC
   * table, else the files under output.
   */
  private static Dataset<Row> existingHashes(List<PredictionSink> sinks, String modelId, String runId)
      throws Exception {
    PredictionSink target =
        sinks.stream()
            .min(Comparator.comparingInt(PredictionSink::lookupRank))
            .orElseThrow(() -> new ConfigError("--skip-existing: no target to look up: give --output, --table or --jdbc-url"));
    try {
      return target.existingHashes(modelId, runId);
    } catch (IllegalStateException e) {
      throw new ConfigError("--skip-existing: " + e.getMessage(), e);
    }
  }

  /**
   * Of one run's predictions: rows per predicted label and a 10-bin histogram of the predicted
   * class's probability (bin i counts [i/10, (i+1)/10)), for summary.json, the report and notebooks.
   */
  public static Map<String, Object> predictionSummary(Dataset<Row> predictions, List<String> classes) {
    Map<String, Long> byLabel = new TreeMap<>();
    for (Row r : predictions.groupBy(PredictionWriter.PREDICTED_LABEL).count().collectAsList()) {
      byLabel.put(r.getString(0), r.getLong(1));
    }
    StringBuilder greatest = new StringBuilder("greatest(");
    for (int i = 0; i < classes.size(); i++) {
      greatest.append(i == 0 ? "" : ", ").append('`').append(PredictionWriter.probabilityColumn(classes.get(i))).append('`');
    }
    greatest.append(')');
    long[] histogram = new long[10];
    for (Row r : predictions.selectExpr("least(9, cast(floor(" + greatest + " * 10) as int)) as bin").groupBy("bin").count().collectAsList()) {
      histogram[r.getInt(0)] = r.getLong(1);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("by_label", byLabel);
    m.put("confidence_histogram", histogram);
    return m;
  }
}
