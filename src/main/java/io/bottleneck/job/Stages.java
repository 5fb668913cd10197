package io.bottleneck.job;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.features.Augmentation;
import io.bottleneck.features.Featurizer;
import io.bottleneck.features.ImageView;
import io.bottleneck.features.NearDuplicates;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.io.Schemas;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.train.ClassWeights;
import io.bottleneck.train.EpochStats;
import io.bottleneck.train.FineTuning;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadSearch;
import io.bottleneck.train.HeadTrainer;
import io.bottleneck.train.ScratchCnn;
import io.bottleneck.train.SearchSpace;
import io.bottleneck.train.TrainedHead;
import io.bottleneck.train.TrainingRows;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The stage calls shared by the pipeline and the single-stage commands. */
final class Stages {
  private static final Logger LOG = LoggerFactory.getLogger(Stages.class);

  private Stages() {}

  static String qualify(SparkSession spark, String uri) {
    return HadoopFiles.qualify(uri, spark.sparkContext().hadoopConfiguration());
  }

  static IngestResult ingest(SparkSession spark, String input, String labelFrom) {
    return ingest(spark, input, labelFrom, true);
  }

  static IngestResult ingest(SparkSession spark, String input, String labelFrom, boolean exifOrientation) {
    // ImageIngest logs the counts
    return ImageIngest.ingest(spark, qualify(spark, input), LabelSource.parse(labelFrom), exifOrientation);
  }

  /** The feature cache root, qualified (a relative path resolves on the default file system). */
  static String featureCache(SparkSession spark, JobConfig cfg) {
    return qualify(spark, cfg.featureCache);
  }

  static Featurizer.Result featurize(SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot) {
    return featurize(spark, images, baseSpec, cfg, cacheRoot, ImageView.ORIGINAL);
  }

  static Featurizer.Result featurize(
      SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot, ImageView view) {
    return Featurizer.featurize(
        spark, images, baseSpec, cfg.featurizeEngine, view, cacheRoot, cfg.featurizeBatchSize, cfg.featurizePartitions,
        cfg.exifOrientation);
  }

  /**
   * Features for training: every image's own, plus, with augmentation on, each training image's
   * augmented views as extra rows with split = train. Rows have a view column (original, or the
   * view's name). Validation and test rows are never augmented.
   */
  record TrainingFeatures(Dataset<Row> rows, Featurizer.Result original, List<Featurizer.Result> augmented)
      implements AutoCloseable {
    long augmentedComputed() {
      return augmented.stream().mapToLong(Featurizer.Result::computed).sum();
    }

    long augmentedFromCache() {
      return augmented.stream().mapToLong(Featurizer.Result::fromCache).sum();
    }

    @Override
    public void close() {
      original.close();
      augmented.forEach(Featurizer.Result::close);
    }
  }

  static TrainingFeatures featurizeForTraining(
      SparkSession spark, Dataset<Row> images, JobConfig cfg, String cacheRoot) {
    return featurizeForTraining(spark, images, cfg.base, cfg, cacheRoot);
  }

  /** As above, with {@code baseSpec} instead of the configured base. */
  static TrainingFeatures featurizeForTraining(
      SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot) {
    Featurizer.Result original = featurize(spark, images, baseSpec, cfg, cacheRoot);
    Dataset<Row> rows = original.featured().withColumn(Columns.VIEW, lit("original"));
    List<Featurizer.Result> augmented = new ArrayList<>();
    Augmentation augmentation = cfg.augmentation;
    if (augmentation.enabled()) {
      Dataset<Row> train =
          Schemas.hasColumn(images.schema(), Columns.SPLIT) ? images.where(col(Columns.SPLIT).equalTo("train")) : images;
      try {
        for (int copy = 1; copy <= augmentation.copies(); copy++) {
          ImageView view = ImageView.augmented(augmentation, copy);
          Featurizer.Result result = featurize(spark, train, baseSpec, cfg, cacheRoot, view);
          augmented.add(result);
          rows = rows.unionByName(result.featured().withColumn(Columns.VIEW, lit(view.toString())));
        }
      } catch (RuntimeException e) {
        original.close();
        augmented.forEach(Featurizer.Result::close);
        throw e;
      }
      LOG.info(
          "augment: {} views of each training image ({} computed, {} from the cache)",
          augmentation.copies(),
          augmented.stream().mapToLong(Featurizer.Result::computed).sum(),
          augmented.stream().mapToLong(Featurizer.Result::fromCache).sum());
    }
    return new TrainingFeatures(rows, original, augmented);
  }

  /**
   * Featured rows with what test-time augmentation averages over: with tta = flip, the
   * features of each image's mirror image in column features_flip (featurized through the
   * cache); otherwise the rows as they are.
   */
  record TtaFeatures(Dataset<Row> rows, List<String> viewColumns, Featurizer.Result flip) implements AutoCloseable {
    @Override
    public void close() {
      if (flip != null) {
        flip.close();
      }
    }
  }

  static TtaFeatures withTta(
      SparkSession spark, Dataset<Row> featured, String baseSpec, JobConfig cfg, String cacheRoot) {
    if (!cfg.tta.equals("flip")) {
      return new TtaFeatures(featured, List.of(), null);
    }
    Featurizer.Result flip =
        featurize(spark, featured.select(Columns.PATH, Columns.CONTENT_HASH), baseSpec, cfg, cacheRoot, ImageView.FLIP);
    String hash = "_flip_hash";
    Dataset<Row> flipped =
        flip.featured()
            .select(col(Columns.CONTENT_HASH).as(hash), col(Columns.FEATURES).as(Columns.FEATURES_FLIP))
            .dropDuplicates(hash);
    Dataset<Row> rows = featured.join(flipped, featured.col(Columns.CONTENT_HASH).equalTo(flipped.col(hash))).drop(hash);
    return new TtaFeatures(rows, List.of(Columns.FEATURES_FLIP), flip);
  }

  /**
   * Near-duplicates between the held-out and training rows of {@code featured} (see
   * {@link NearDuplicates}), each finding logged as a warning; null when
   * quality.near-duplicates.enabled is off or the rows have no split column.
   */
  static NearDuplicates nearDuplicates(Dataset<Row> featured, JobConfig cfg) {
    if (!cfg.nearDuplicates || !Schemas.hasColumn(featured.schema(), Columns.SPLIT)) {
      return null;
    }
    long t0 = System.nanoTime();
    NearDuplicates near = NearDuplicates.find(featured, cfg.nearDuplicateSimilarity, Reports.QUALITY_EXAMPLES);
    near.warnings().forEach(w -> LOG.warn("data quality: {}", w));
    LOG.info("data quality: near-duplicates across splits: {} pair(s), {} held-out image(s) at cosine >= {} ({} s)",
        near.pairs(), near.heldOutImages(), near.minSimilarity(), Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    return near;
  }

  /** Class names in output order: the distinct labels, sorted (as Keras flow_from_directory). */
  static List<String> classes(Dataset<Row> labeled) {
    return TrainingRows.classes(labeled);
  }


  /** Adds label_index in the given class order; labels the model does not know are an error. */
  static Dataset<Row> withLabelIndex(Dataset<Row> labeled, List<String> classes) {
    return TrainingRows.withLabelIndex(labeled, classes);
  }

  /** The train.* keys as the head trainer takes them (built and checked when cfg loaded). */
  static HeadConfig headConfig(JobConfig cfg) {
    return cfg.head;
  }

  /** The search.* keys as a search (seeded with train.seed); call only when search.trials > 0. */
  static HeadSearch headSearch(JobConfig cfg) {
    SearchSpace space =
        new SearchSpace(
            cfg.searchHiddenUnits,
            cfg.searchDropout,
            cfg.searchLearningRate,
            cfg.searchL2,
            cfg.searchBatchNorm,
            cfg.searchOptimizer);
    return new HeadSearch(space, HeadSearch.Strategy.parse(cfg.searchStrategy), cfg.searchTrials, cfg.trainSeed);
  }

  /** Scores labeled, featurized rows with the bundle's head and computes the metrics. */
  static ClassificationMetrics evaluate(Dataset<Row> featuredLabeled, ModelBundle bundle, int batchSize) {
    return evaluate(featuredLabeled, bundle, batchSize, List.of());
  }

  /** As above, averaging the probabilities over features and the {@code viewColumns} (TTA). */
  static ClassificationMetrics evaluate(
      Dataset<Row> featuredLabeled, ModelBundle bundle, int batchSize, List<String> viewColumns) {
    Dataset<Row> indexed = withLabelIndex(featuredLabeled, bundle.classes());
    Dataset<Row> scored = HeadScorer.score(indexed, bundle.head(), bundle.classes(), batchSize, viewColumns);
    return ClassificationMetrics.fromPredictions(scored, bundle.classes());
  }

  /**
   * A trained head as a bundle, with its validation metrics when there are validation rows and
   * the search's trials when one ran (search.trials &gt; 0; else null).
   */
  record Trained(
      ModelBundle bundle, TrainedHead head, ClassificationMetrics metrics, HeadSearch.Result search,
      TrainedHead fineTuned) {}

  /**
   * Trains the head on featurized rows: split = train rows train, split = validation rows
   * validate (without a split column every row trains), then evaluates the best weights on
   * the validation rows.
   */
  static Trained trainAndEvaluate(
      SparkSession spark, Dataset<Row> featured, String baseId, String preprocessingId, int featureSize,
      JobConfig cfg, String cacheRoot, Map<String, Object> provenance) {
    boolean hasSplit = Schemas.hasColumn(featured.schema(), Columns.SPLIT);
    Dataset<Row> trainRows = hasSplit ? featured.where(col(Columns.SPLIT).equalTo("train")) : featured;
    List<String> classes = classes(trainRows);
    Dataset<Row> indexed = withLabelIndex(featured, classes);
    Dataset<Row> train = inStableOrder(hasSplit ? indexed.where(col(Columns.SPLIT).equalTo("train")) : indexed);
    Dataset<Row> validation = hasSplit ? indexed.where(col(Columns.SPLIT).equalTo("validation")) : null;
    HeadConfig headConfig = headConfig(cfg);
    ClassWeights weights = headConfig.classWeights();
    if (weights.kind() == ClassWeights.Kind.EXPLICIT && weights.weights().size() != classes.size()) {
      throw new IllegalArgumentException(
          "bottleneck.train.class-weights gives " + weights.weights().size() + " weights (" + weights + ") but the training set has "
              + classes.size() + " classes " + classes + "; give one weight per class, in this order.");
    }
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    HeadSearch.Result search = null;
    TrainedHead trained;
    if (cfg.searchTrials > 0) {
      search = headSearch(cfg).fit(sc, train, validation, classes.size(), headConfig);
      trained = search.bestHead();
      headConfig = search.bestConfig();
    } else if (Bases.pixelSize(baseId) > 0) {
      int size = Bases.pixelSize(baseId);
      trained = HeadTrainer.fit(sc, train, validation, classes.size(), headConfig,
          (in, n, config, lossWeights) -> ScratchCnn.network(size, cfg.scratchFilters, n, config, lossWeights));
    } else {
      trained = HeadTrainer.fit(sc, train, validation, classes.size(), headConfig);
    }
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("head", headConfig);
    training.put("epochs_run", trained.history().size());
    training.put("best_epoch", trained.bestEpoch());
    training.put("stopped_early", trained.stoppedEarly());
    training.put("augmentation", cfg.augmentation);
    training.put("tta", cfg.tta);
    if (!trained.classWeights().isEmpty()) {
      training.put("class_weights", trained.classWeights());
    }
    if (search != null) {
      // strategy, trials_run, best_trial, best_params, best_val_loss and every trial.
      training.put("search", search.toMap());
    }
    if (Bases.pixelSize(baseId) > 0) {
      training.put("scratch_filters", cfg.scratchFilters);
    }
    training.putAll(provenance);
    if (cfg.fineTuneBlocks > 0) {
      if (!hasSplit) {
        throw new IllegalArgumentException("Fine-tuning needs validation rows: column " + Columns.SPLIT + " is missing");
      }
      return fineTuneAndEvaluate(spark, featured, baseId, classes, trained, headConfig, training, cfg, cacheRoot);
    }
    ModelBundle bundle =
        ModelBundle.create(baseId, preprocessingId, featureSize, classes, trained.network(), training, null);
    ClassificationMetrics metrics = null;
    if (validation != null && !validation.isEmpty()) {
      metrics = evaluateValidation(spark, validation, bundle, cfg, cacheRoot);
      bundle = bundle.withMetrics(Json.parseObject(metrics.toJson(), "metrics"));
    }
    return new Trained(bundle, trained, metrics, search, null);
  }

  /** Validation metrics of a bundle on the original views, with test-time augmentation if set. */
  private static ClassificationMetrics evaluateValidation(
      SparkSession spark, Dataset<Row> validation, ModelBundle bundle, JobConfig cfg, String cacheRoot) {
    Dataset<Row> rows = validation.drop(Columns.LABEL_INDEX);
    if (Schemas.hasColumn(rows.schema(), Columns.VIEW)) {
      rows = rows.where(col(Columns.VIEW).equalTo("original")).drop(Columns.VIEW);
    }
    try (TtaFeatures tta = withTta(spark, rows, bundle.baseId(), cfg, cacheRoot)) {
      return evaluate(tta.rows(), bundle, cfg.predictBatchSize, tta.viewColumns());
    }
  }

  /**
   * The second stage of the Keras recipe: the base's last {@code fine-tune.blocks} blocks,
   * initialised with their pretrained weights, and the trained {@code head}, trained together at
   * {@code fine-tune.learning-rate} on what the frozen rest of the base computes for the same
   * images (and their augmented views), featurized through the cache. The bundle's base is the
   * frozen part ({@code <base>@tail<k>}); its network holds the tuned blocks and the head.
   */
  private static Trained fineTuneAndEvaluate(
      SparkSession spark, Dataset<Row> featured, String baseId, List<String> classes, TrainedHead head,
      HeadConfig headConfig, Map<String, Object> training, JobConfig cfg, String cacheRoot) {
    String frozenId = TunableTail.frozenPartId(baseId, cfg.fineTuneBlocks);
    TunableTail tail = TunableTail.of(frozenId);
    Dataset<Row> images = featured.drop(Columns.FEATURES);
    if (Schemas.hasColumn(images.schema(), Columns.VIEW)) {
      images = images.where(col(Columns.VIEW).equalTo("original")).drop(Columns.VIEW);
    }
    LOG.info("fine-tune: training the last {} block(s) of {} with the head, on the output of {}",
        cfg.fineTuneBlocks, baseId, frozenId);
    try (TrainingFeatures frozen = featurizeForTraining(spark, images, frozenId, cfg, cacheRoot)) {
      Dataset<Row> indexed = withLabelIndex(frozen.rows(), classes).persist();
      try {
        Dataset<Row> train = inStableOrder(indexed.where(col(Columns.SPLIT).equalTo("train")));
        Dataset<Row> validation =
            indexed.where(col(Columns.SPLIT).equalTo("validation").and(col(Columns.VIEW).equalTo("original")));
        HeadConfig tuneConfig =
            headConfig.toBuilder()
                .epochs(cfg.fineTuneEpochs)
                .learningRate(cfg.fineTuneLearningRate)
                .optimizer(cfg.fineTuneOptimizer)
                .minLearningRate(Math.min(headConfig.minLearningRate(), cfg.fineTuneLearningRate))
                .build();
        TrainedHead tuned =
            HeadTrainer.fit(
                JavaSparkContext.fromSparkContext(spark.sparkContext()), train, validation, classes.size(), tuneConfig,
                (in, n, config, lossWeights) -> FineTuning.network(tail, head.network(), config));
        Map<String, Object> fineTune = new LinkedHashMap<>();
        fineTune.put("blocks", cfg.fineTuneBlocks);
        fineTune.put("base", baseId);
        fineTune.put("frozen_part", frozenId);
        fineTune.put("config", tuneConfig);
        fineTune.put("epochs_run", tuned.history().size());
        fineTune.put("best_epoch", tuned.bestEpoch());
        fineTune.put("stopped_early", tuned.stoppedEarly());
        fineTune.put("head_stage_best_val_loss", bestValidationLoss(head));
        fineTune.put("best_val_loss", bestValidationLoss(tuned));
        training.put("fine_tune", fineTune);
        ModelBundle bundle =
            ModelBundle.create(
                frozenId, frozen.original().preprocessingId(), tail.inputLength(), classes, tuned.network(), training, null);
        ClassificationMetrics metrics = evaluateValidation(spark, validation, bundle, cfg, cacheRoot);
        bundle = bundle.withMetrics(Json.parseObject(metrics.toJson(), "metrics"));
        return new Trained(bundle, head, metrics, null, tuned);
      } finally {
        indexed.unpersist();
      }
    }
  }

  /**
   * Training rows sorted by content hash (then view and path, where present): the trainer
   * numbers rows in input order and shuffles by those numbers, and the order a join or union
   * yields differs between a cold and a warm feature cache. Sorted, the same seed trains the
   * same model either way.
   */
  static Dataset<Row> inStableOrder(Dataset<Row> rows) {
    return TrainingRows.inStableOrder(rows);
  }


  private static double bestValidationLoss(TrainedHead head) {
    return head.history().isEmpty() ? Double.NaN : head.history().get(head.bestEpoch()).validationLoss();
  }

  /**
   * history.csv (the head's epochs), fine_tune_history.csv when fine-tuning ran, the search's
   * trials when one ran, and examples.csv (the validation images scored) when there are metrics.
   */
  static void writeTrainingFiles(SparkSession spark, String dir, Trained trained) throws IOException {
    writeText(spark, HadoopFiles.child(dir, "history.csv"), historyCsv(trained.head().history()));
    if (trained.fineTuned() != null) {
      writeText(spark, HadoopFiles.child(dir, "fine_tune_history.csv"), historyCsv(trained.fineTuned().history()));
    }
    writeTrials(spark, dir, trained);
    Reports.writeExamples(spark, dir, trained.metrics());
  }

  /** trials.csv and trials.json in {@code dir} when a search ran; nothing otherwise. */
  static void writeTrials(SparkSession spark, String dir, Trained trained) throws IOException {
    if (trained.search() != null) {
      writeText(spark, HadoopFiles.child(dir, "trials.csv"), trained.search().toCsv());
      writeText(spark, HadoopFiles.child(dir, "trials.json"), trained.search().toJson());
    }
  }

  static String historyCsv(List<EpochStats> history) {
    StringBuilder b = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,lr\n");
    for (EpochStats e : history) {
      b.append(
          String.format(
              Locale.ROOT,
              "%d,%s,%s,%s,%s,%s%n",
              e.epoch(),
              num(e.trainLoss()),
              num(e.trainAccuracy()),
              num(e.validationLoss()),
              num(e.validationAccuracy()),
              num(e.learningRate())));
    }
    return b.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }

  static void writeText(SparkSession spark, String uri, String text) throws IOException {
    HadoopFiles.writeString(uri, text, spark.sparkContext().hadoopConfiguration());
  }

  static ModelBundle loadBundle(SparkSession spark, String uri) throws IOException {
    return ModelBundle.load(qualify(spark, uri), spark.sparkContext().hadoopConfiguration());
  }
}
