package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.report.RunReport;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
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
  @Option(names = "--model", paramLabel = "DIR[,DIR...]", description = "Model bundle, or several separated by commas to average their probabilities (key: model).")
  String model;

  @Option(names = "--input", paramLabel = "URI", description = "Labeled images (key: input).")
  String input;

  @Option(names = "--label-from", paramLabel = "dir|filename|manifest:URI", description = "Where labels come from (key: label-from).")
  String labelFrom;

  @Option(names = "--output", paramLabel = "DIR", description = "Where metrics.json goes (key: output).")
  String output;

  @Option(names = "--run-id", paramLabel = "ID", description = "Run identifier, the metrics table partition (key: run-id).")
  String runId;

  @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = "Run date, the table partition with the run id; default today in UTC (key: run-date).")
  String runDate;

  @Option(names = "--metrics-table", paramLabel = "NAME", description = "Catalog table for the run's metrics, e.g. db.metrics (key: metrics.table).")
  String metricsTable;

  @Option(names = "--tta", paramLabel = "none|flip", description = "Test-time augmentation (key: tta).")
  String tta;

  @Option(names = "--cache", paramLabel = "URI", description = "Feature cache root (key: featurize.cache).")
  String cache;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("model", model);
    keys.put("input", input);
    keys.put("label-from", labelFrom);
    keys.put("output", output);
    keys.put("featurize.cache", cache);
    keys.put("tta", tta);
    keys.put("run-id", runId);
    keys.put("run-date", runDate);
    keys.put("metrics.table", metricsTable);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.model, "--model", "model");
    requireModelList(cfg.model);
    require(cfg.input, "--input", "input");
    if (cfg.labelFrom.equals("none")) {
      throw new io.bottleneck.config.ConfigError("--label-from none: evaluate needs labels");
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
    String cacheRoot = Stages.featureCache(spark, cfg);
    IngestResult ingested = Stages.ingest(spark, cfg.input, cfg.labelFrom, cfg.exifOrientation);
    ClassificationMetrics metrics;
    // label indices first: an unknown label fails before any featurization
    Dataset<Row> labeled = Stages.withLabelIndex(ingested.images(), classes);
    try (Scoring.Scored scored = Scoring.score(spark, labeled, bundles, cfg, cacheRoot)) {
      metrics = ClassificationMetrics.fromPredictions(scored.rows(), classes);
    }
    if (!cfg.output.isEmpty()) {
      String out = Stages.qualify(spark, cfg.output);
      Stages.writeText(spark, HadoopFiles.child(out, "metrics.json"), metrics.toJson());
      Reports.writeExamples(spark, out, metrics);
      Map<String, Object> facts = new LinkedHashMap<>();
      facts.put("model", String.join(",", Scoring.uris(cfg.model).stream().map(m -> Stages.qualify(spark, m)).toList()));
      facts.put("model_id", modelId);
      facts.put("base", Scoring.baseIds(bundles));
      facts.put("input", Stages.qualify(spark, cfg.input));
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
    Warehouse.writeMetrics(spark, cfg, metrics, modelId, name(), Stages.qualify(spark, cfg.input));
    ingested.close();
    System.out.println(metrics.summaryJson());
    return Main.OK;
  }
}
