package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.BatchPredictions;
import io.bottleneck.predict.Scoring;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "predict",
    mixinStandardHelpOptions = true,
    description = {
      "Predicts unlabeled images with a model bundle: one row per image (path, predicted_label,",
      "prob_<class>..., model_id, predicted_at, run_id) to files under --output (partition",
      "run_id=<id>), the catalog table --table (partition run_date, run_id) and/or the JDBC",
      "table of --jdbc-url. Re-running a run id replaces its rows."
    })
final class PredictCommand extends JobCommand {
  @Mixin ScoringOptions scoring;

  @Option(names = "--input", paramLabel = "URI", description = "Images to predict (key: input).")
  String input;

  @Option(names = "--table", paramLabel = "NAME", description = "Catalog table, e.g. db.predictions (key: predict.table).")
  String table;

  @Option(names = "--output", paramLabel = "DIR", description = "Output directory (key: output).")
  String output;

  @Option(names = "--format", paramLabel = "parquet|csv", description = "File format under --output (key: predict.format).")
  String format;

  @Option(names = "--run-id", paramLabel = "ID", description = "Run identifier (key: run-id).")
  String runId;

  @Mixin RunDateOption runDate;

  @Mixin JdbcUrlOption jdbcUrl;

  @Option(names = "--skip-existing", description = "Score only the images whose content hash the target (--table, else --jdbc-url, else --output) holds no prediction of by this model id in another run (key: predict.skip-existing).")
  boolean skipExisting;

  @Override
  void options(Map<String, Object> keys) {
    if (skipExisting) {
      keys.put("predict.skip-existing", true);
    }
    scoring.options(keys);
    keys.put("input", input);
    keys.put("predict.table", table);
    keys.put("output", output);
    keys.put("predict.format", format);
    keys.put("run-id", runId);
    runDate.options(keys);
    jdbcUrl.options(keys);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.model, "--model", "model");
    requireModelList(cfg.model);
    require(cfg.input, "--input", "input");
    if (cfg.output.isEmpty() && cfg.predictTable.isEmpty() && cfg.jdbcUrl.isEmpty()) {
      throw new ConfigError(
          "predict needs --output, --table or --jdbc-url (keys bottleneck.output, bottleneck.predict.table,"
              + " bottleneck.predict.jdbc.url)");
    }
    int targets = (cfg.output.isEmpty() ? 0 : 1) + (cfg.predictTable.isEmpty() ? 0 : 1) + (cfg.jdbcUrl.isEmpty() ? 0 : 1);
    if (cfg.skipExisting && targets > 1) {
      throw new ConfigError(
          "--skip-existing (key bottleneck.predict.skip-existing) looks up one target: give one of --output, --table,"
              + " --jdbc-url");
    }
  }

  @Override
  boolean needsCatalog(JobConfig cfg) {
    return !cfg.predictTable.isEmpty();
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    List<ModelBundle> bundles = Scoring.loadBundles(spark, cfg.model);
    String cacheRoot = FeatureStage.featureCache(spark, cfg);
    BatchPredictions.Outcome outcome = BatchPredictions.run(spark, cfg, bundles, cfg.input, cfg.output, cfg.predictTable, cacheRoot);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("run_id", cfg.runId);
    report.put("run_date", cfg.runDate.toString());
    report.put("model_id", Scoring.modelId(bundles));
    report.put("predicted", outcome.predicted());
    report.put("rejected", outcome.rejected());
    if (cfg.skipExisting) {
      report.put("skipped_existing", outcome.skipped());
    }
    if (!outcome.output().isEmpty()) {
      report.put("output", outcome.output());
    }
    if (!outcome.table().isEmpty()) {
      report.put("table", outcome.table());
    }
    if (!cfg.jdbcUrl.isEmpty()) {
      report.put("jdbc_table", cfg.jdbcTable);
    }
    System.out.println(Json.oneLine(report));
    return Main.OK;
  }
}
