package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.evaluate.Evaluation;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.Scoring;
import io.bottleneck.report.Reports;
import io.bottleneck.report.RunReport;
import io.bottleneck.train.TrainingRows;
import io.bottleneck.warehouse.WarehouseTargets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "evaluate",
    mixinStandardHelpOptions = true,
    description = {
      "Evaluates a model bundle on labeled images (featurizing what the cache lacks). Writes",
      "metrics.json to --output and/or the run's row of the catalog table --metrics-table, and",
      "prints the summary as one JSON line, last on stdout."
    })
final class EvaluateCommand extends JobCommand {
  @Mixin ScoringOptions scoring;

  @Mixin LabeledInputOptions labeledInput;

  @Option(names = "--output", paramLabel = "DIR", description = "Where metrics.json goes (key: output).")
  String output;

  @Option(names = "--run-id", paramLabel = "ID", description = "Run identifier, the metrics table partition (key: run-id).")
  String runId;

  @Mixin RunDateOption runDate;

  @Mixin MetricsTableOption metricsTable;

  @Override
  void options(Map<String, Object> keys) {
    scoring.options(keys);
    labeledInput.options(keys);
    keys.put("output", output);
    keys.put("run-id", runId);
    runDate.options(keys);
    metricsTable.options(keys);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.model, "--model", "model");
    requireModelList(cfg.model);
    require(cfg.input, "--input", "input");
    if (cfg.labelFrom.equals("none")) {
      throw new ConfigError("--label-from none: evaluate needs labels");
    }
  }

  @Override
  boolean needsCatalog(JobConfig cfg) {
    return !cfg.metricsTable.isEmpty();
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    List<ModelBundle> bundles = Scoring.loadBundles(spark, cfg.model);
    List<String> classes = bundles.get(0).classes();
    String modelId = Scoring.modelId(bundles);
    String cacheRoot = FeatureStage.featureCache(spark, cfg);
    // ImageIngest logs the counts
    IngestResult ingested = ImageIngest.ingest(spark, cfg.input, cfg.labelFrom, cfg.exifOrientation);
    ClassificationMetrics metrics;
    // label indices first: an unknown label fails before any featurization
    Dataset<Row> labeled = TrainingRows.withLabelIndex(ingested.images(), classes);
    try (Scoring.Scored scored = Scoring.score(spark, labeled, bundles, cfg, cacheRoot)) {
      metrics = ClassificationMetrics.fromPredictions(scored.rows(), classes);
    }
    if (!cfg.output.isEmpty()) {
      String out = HadoopFiles.qualify(cfg.output, spark);
      HadoopFiles.writeString(HadoopFiles.child(out, "metrics.json"), metrics.toJson(), spark);
      Evaluation.writeExamples(spark, out, metrics);
      Map<String, Object> facts = new LinkedHashMap<>();
      facts.put("model", String.join(",", Scoring.uris(cfg.model).stream().map(m -> HadoopFiles.qualify(m, spark)).toList()));
      facts.put("model_id", modelId);
      facts.put("base", Scoring.baseIds(bundles));
      facts.put("input", HadoopFiles.qualify(cfg.input, spark));
      facts.put("label_from", cfg.labelFrom);
      facts.put("tta", cfg.tta);
      facts.put("versions", Reports.versions(spark));
      Map<String, Object> data = ingested.counts();
      Map<String, Long> rejectReasons = ingested.rejected() > 0 ? Reports.rejectReasons(ingested.rejects()) : Map.of();
      ClassificationMetrics evaluated = metrics;
      Reports.write(spark, cfg, out, () -> {
        RunReport report = new RunReport("Bottleneck evaluation of " + modelId).facts("Run", facts);
        Reports.addData(report, data, rejectReasons, null);
        Reports.addEvaluation(spark, cfg, report, "Evaluation", evaluated);
        return report;
      });
    }
    WarehouseTargets.writeMetrics(spark, cfg, metrics, modelId, name(), HadoopFiles.qualify(cfg.input, spark));
    ingested.close();
    System.out.println(metrics.summaryJson());
    return Main.OK;
  }
}
