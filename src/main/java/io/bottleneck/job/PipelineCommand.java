package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.Featurizer;
import io.bottleneck.features.NearDuplicates;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.ingest.DataQuality;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.BatchPredictions;
import io.bottleneck.report.Reports;
import io.bottleneck.report.RunReport;
import io.bottleneck.split.SplitResult;
import io.bottleneck.split.StratifiedSplit;
import io.bottleneck.train.TrainStage;
import io.bottleneck.train.Trained;
import io.bottleneck.train.TrainingFiles;
import io.bottleneck.warehouse.WarehouseTargets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(
    name = "pipeline",
    mixinStandardHelpOptions = true,
    description = {
      "Runs every stage: ingest, split, featurize, train, evaluate, and predict when",
      "--predict-input is given. Without options: the sample shipped in data/sample."
    })
final class PipelineCommand extends JobCommand {
  @Override
  boolean usesBase() {
    return true;
  }

  private static final Logger LOG = LoggerFactory.getLogger(PipelineCommand.class);

  @Mixin LabeledInputOptions labeledInput;

  @Option(names = "--output", paramLabel = "DIR", description = "Run directory (key: output); default runs/<run-id>.")
  String output;

  @Option(names = "--base", paramLabel = "NAME", description = "mobilenet_v1_0.25, squeezenet_1.1, mobilenet_v2_1.0, a base declared in bases, or several joined by + (key: base).")
  String base;

  @Option(names = "--test-size", paramLabel = "SIZE", description = "Validation share: fraction or count (key: split.test-size).")
  Double testSize;

  @Option(names = "--seed", description = "Seed of split and training (key: split.seed).")
  Long seed;

  @Option(names = "--epochs", paramLabel = "N", description = "Maximum epochs (key: train.epochs).")
  Integer epochs;

  @Option(names = "--predict-input", paramLabel = "URI", description = "Unlabeled images to predict (key: predict-input).")
  String predictInput;

  @Option(names = "--augment", paramLabel = "K", description = "Augmented views per training image, 0 = none (key: augment.copies).")
  Integer augment;

  @Option(names = "--fine-tune", paramLabel = "BLOCKS", description = "Unfreeze and train the base's last blocks after the head, 0 = off (key: fine-tune.blocks).")
  Integer fineTune;

  @Option(names = "--tta", paramLabel = "none|flip", description = "Test-time augmentation (key: tta).")
  String tta;

  @Option(names = "--run-id", paramLabel = "ID", description = "Run identifier (key: run-id).")
  String runId;

  @Option(names = "--dedupe", description = "Drop duplicate images (same content) before splitting (key: quality.dedupe).")
  boolean dedupe;

  @Mixin RunDateOption runDate;

  @Option(names = "--table", paramLabel = "NAME", description = "Catalog table for the predictions of --predict-input (key: predict.table).")
  String table;

  @Mixin JdbcUrlOption jdbcUrl;

  @Mixin MetricsTableOption metricsTable;

  @Override
  void options(Map<String, Object> keys) {
    labeledInput.options(keys);
    keys.put("output", output);
    keys.put("base", base);
    keys.put("split.test-size", testSize);
    keys.put("split.seed", seed);
    keys.put("train.epochs", epochs);
    keys.put("predict-input", predictInput);
    keys.put("run-id", runId);
    runDate.options(keys);
    keys.put("predict.table", table);
    jdbcUrl.options(keys);
    metricsTable.options(keys);
    keys.put("augment.copies", augment);
    keys.put("tta", tta);
    keys.put("fine-tune.blocks", fineTune);
    keys.put("quality.dedupe", dedupe ? Boolean.TRUE : null);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.input, "--input", "input");
    if (cfg.labelFrom.equals("none")) {
      throw new ConfigError("--label-from none: the pipeline trains, so it needs labels");
    }
    // a JDBC write needs prediction rows, so it needs something to predict
    if (!cfg.jdbcUrl.isEmpty() && cfg.predictInput.isEmpty()) {
      throw new ConfigError("--jdbc-url (key bottleneck.predict.jdbc.url) writes predictions: also give --predict-input");
    }
  }

  @Override
  boolean needsCatalog(JobConfig cfg) {
    return (!cfg.predictInput.isEmpty() && !cfg.predictTable.isEmpty()) || !cfg.metricsTable.isEmpty();
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    String out = HadoopFiles.qualify(cfg.output.isEmpty() ? "runs/" + cfg.runId : cfg.output, spark);
    String cache = FeatureStage.featureCache(spark, cfg);
    Map<String, Object> seconds = new LinkedHashMap<>();
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("run_id", cfg.runId);
    summary.put("run_date", cfg.runDate.toString());
    summary.put("output", out);
    summary.put("input", HadoopFiles.qualify(cfg.input, spark));
    summary.put("base", cfg.base);
    summary.put("augment_copies", cfg.augmentation.copies());
    summary.put("tta", cfg.tta);
    FeatureStage.prebuildBases(spark, cfg); // while ingest and split run
    long t0 = System.nanoTime();
    long start = t0;

    // ImageIngest logs the counts
    IngestResult ingested = ImageIngest.ingest(spark, cfg.input, cfg.labelFrom, cfg.exifOrientation);
    ingested.rejects().write().mode(SaveMode.Overwrite).parquet(HadoopFiles.child(out, "rejects"));
    Map<String, Object> ingestCounts = ingested.counts();
    Dataset<Row> accepted = ingested.images();
    if (cfg.dedupe) {
      accepted = DataQuality.dropDuplicates(accepted).persist();
      long kept = accepted.count();
      ingestCounts.put("duplicates_dropped", ingested.accepted() - kept);
      LOG.info("ingest: --dedupe dropped {} duplicate file(s), {} images remain", ingested.accepted() - kept, kept);
    }
    summary.put("ingest", ingestCounts);
    Map<String, Long> rejectReasons = ingested.rejected() > 0 ? Reports.rejectReasons(ingested.rejects()) : Map.of();
    seconds.put("ingest", lap(t0));
    t0 = System.nanoTime();

    SplitResult splitResult = StratifiedSplit.splitWithCounts(accepted, cfg.testSize, cfg.seed);
    splitResult.rows().write().mode(SaveMode.Overwrite).parquet(HadoopFiles.child(out, "split"));
    // the schema is known: reading it back needs no job to infer it from the files
    Dataset<Row> split = spark.read().schema(splitResult.rows().schema()).parquet(HadoopFiles.child(out, "split"));
    // the split's own counts; the rows are counted only when some are duplicates
    summary.put("split", splitResult.rowsPerSplit(split));
    DataQuality quality = splitResult.quality(split, Reports.QUALITY_EXAMPLES);
    quality.warnings(cfg.maxImbalanceRatio).forEach(w -> LOG.warn("data quality: {}", w));
    summary.put("quality", quality.toMap());
    seconds.put("split", lap(t0));
    t0 = System.nanoTime();

    TrainingFeatures training = FeatureStage.featurizeForTraining(spark, split, cfg, cache);
    Featurizer.Result features = training.original();
    Dataset<Row> featured = training.rows().persist();
    Map<String, Object> featurizeSummary = new LinkedHashMap<>();
    featurizeSummary.put("engine", features.engine());
    featurizeSummary.put("distinct_images", features.distinctImages());
    featurizeSummary.put("computed", features.computed());
    featurizeSummary.put("from_cache", features.fromCache());
    featurizeSummary.put("images_per_second", round(features.imagesPerSecond()));
    featurizeSummary.put("cache", features.cacheLocation());
    if (cfg.augmentation.enabled()) {
      featurizeSummary.put("augmented_views", cfg.augmentation.copies());
      featurizeSummary.put("augmented_computed", training.augmentedComputed());
      featurizeSummary.put("augmented_from_cache", training.augmentedFromCache());
    }
    summary.put("featurize", featurizeSummary);
    seconds.put("featurize", lap(t0));
    t0 = System.nanoTime();

    NearDuplicates near = FeatureStage.nearDuplicates(featured, cfg, Reports.QUALITY_EXAMPLES);
    if (near != null) {
      @SuppressWarnings("unchecked")
      Map<String, Object> qualitySummary = (Map<String, Object>) summary.get("quality");
      qualitySummary.put("near_duplicates", near.toMap());
      seconds.put("near_duplicates", lap(t0));
      t0 = System.nanoTime();
    }

    Map<String, Object> provenance = new LinkedHashMap<>();
    provenance.put("input", summary.get("input"));
    provenance.put("label_from", cfg.labelFrom);
    provenance.put("test_size", cfg.testSize);
    provenance.put("seed", cfg.seed);
    provenance.put("run_id", cfg.runId);
    provenance.put("feature_cache", cache);
    Trained trained =
        TrainStage.trainAndEvaluate(
            spark, featured, splitResult, features.baseId(), features.preprocessingId(), features.featureSize(), cfg, cache, provenance);
    ModelBundle bundle = trained.bundle();
    ClassificationMetrics metrics = trained.metrics();
    seconds.put("train", lap(t0));
    t0 = System.nanoTime();
    // overwrite: re-running a run id (or --output) replaces its model, as the other outputs are replaced
    bundle.save(HadoopFiles.child(out, "model"), spark.sparkContext().hadoopConfiguration(), true);
    HadoopFiles.writeString(HadoopFiles.child(out, "metrics.json"), metrics.toJson(), spark);
    TrainingFiles.write(spark, out, trained);
    WarehouseTargets.writeMetrics(spark, cfg, metrics, bundle.modelId(), name(), (String) summary.get("input"));
    seconds.put("save", lap(t0));
    t0 = System.nanoTime();
    featured.unpersist();
    training.close();

    if (!cfg.predictInput.isEmpty()) {
      BatchPredictions.Outcome predicted =
          BatchPredictions.run(spark, cfg, List.of(bundle), cfg.predictInput, HadoopFiles.child(out, "predictions"), cfg.predictTable, cache);
      Map<String, Object> predict = new LinkedHashMap<>();
      predict.put("predicted", predicted.predicted());
      predict.put("rejected", predicted.rejected());
      predict.put("table", cfg.predictTable);
      predict.putAll(predicted.summary());
      summary.put("predict", predict);
      seconds.put("predict", lap(t0));
    }
    seconds.put("total", lap(start));
    summary.put("model_id", bundle.modelId());
    summary.put("seconds", seconds);
    summary.put("metrics", Json.parseObject(metrics.summaryJson(), "metrics"));
    HadoopFiles.writeString(HadoopFiles.child(out, "summary.json"), Json.pretty(summary), spark);
    Reports.write(spark, cfg, out, () -> report(spark, cfg, summary, rejectReasons, quality, near, trained));
    ingested.close();
    LOG.info("pipeline: finished in {} s; stage seconds {}", seconds.get("total"), seconds);

    System.out.println("run directory: " + out);
    System.out.println(metrics.summaryJson());
    return Main.OK;
  }

  private static RunReport report(
      SparkSession spark, JobConfig cfg, Map<String, Object> summary, Map<String, Long> rejectReasons,
      DataQuality quality, NearDuplicates near, Trained trained) {
    RunReport report = new RunReport("Bottleneck pipeline run " + cfg.runId);
    Map<String, Object> facts = new LinkedHashMap<>();
    for (String k : List.of("run_id", "model_id", "input", "output", "base", "augment_copies", "tta")) {
      facts.put(k, summary.get(k));
    }
    facts.put("label_from", cfg.labelFrom);
    facts.put("test_size", cfg.testSize);
    facts.put("seed", cfg.seed);
    facts.put("fine_tune_blocks", cfg.fineTuneBlocks);
    facts.put("dedupe", cfg.dedupe);
    facts.put("head", trained.bundle().training().get("head"));
    facts.put("versions", Reports.versions(spark));
    report.facts("Run", facts);
    List<String> warnings = new ArrayList<>(quality.warnings(cfg.maxImbalanceRatio));
    if (near != null) {
      warnings.addAll(near.warnings());
    }
    report.warnings(warnings);
    @SuppressWarnings("unchecked")
    Map<String, Object> ingest = new LinkedHashMap<>((Map<String, Object>) summary.get("ingest"));
    ingest.put("split", summary.get("split"));
    Reports.addData(report, ingest, rejectReasons, quality);
    Reports.addNearDuplicates(spark, cfg, report, near);
    Reports.addTraining(report, trained);
    Reports.addEvaluation(spark, cfg, report, "Validation", trained.metrics());
    Map<String, Object> performance = new LinkedHashMap<>();
    performance.put("stage seconds", summary.get("seconds"));
    performance.put("featurize", summary.get("featurize"));
    report.facts("Stages, timings and feature cache", performance);
    if (summary.get("predict") instanceof Map<?, ?> predict) {
      Map<String, Object> predictions = new LinkedHashMap<>();
      predictions.put("images predicted", predict.get("predicted"));
      predictions.put("rejected", predict.get("rejected"));
      predictions.put("table", predict.get("table"));
      predictions.put("by predicted label", predict.get("by_label"));
      predictions.put("confidence histogram (10 bins from 0 to 1)", predict.get("confidence_histogram"));
      report.facts("Predictions", predictions);
    }
    return report;
  }

  static double lap(long t0) {
    return round((System.nanoTime() - t0) / 1e9);
  }

  static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
