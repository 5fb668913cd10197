package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.evaluate.Evaluation;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.features.TtaFeatures;
import io.bottleneck.io.Columns;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.io.Schemas;
import io.bottleneck.nets.Bases;
import io.bottleneck.split.SplitResult;
import io.bottleneck.split.StratifiedSplit;
import io.bottleneck.nets.dl4j.TunableTail;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The train stage as the commands run it, from the job's configuration: the head (searched,
 * scratch CNN or plain), optionally fine-tuned with the base's last blocks, as a bundle with its
 * validation metrics.
 */
public final class TrainStage {
  private static final Logger LOG = LoggerFactory.getLogger(TrainStage.class);

  private TrainStage() {}

  /** The train.* keys as the head trainer takes them (built and checked when cfg loaded). */
  public static HeadConfig headConfig(JobConfig cfg) {
    return cfg.head;
  }

  /** The search.* keys as a search (seeded with train.seed); call only when search.trials > 0. */
  public static HeadSearch headSearch(JobConfig cfg) {
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

  /**
   * Trains the head on featurized rows: split = train rows train, split = validation rows
   * validate (without a split column every row trains), then evaluates the best weights on
   * the validation rows.
   *
   * @param provenance entries added to the bundle's training section (input, seed, ...)
   */
  public static Trained trainAndEvaluate(
      SparkSession spark, Dataset<Row> featured, String baseId, String preprocessingId, int featureSize,
      JobConfig cfg, String cacheRoot, Map<String, Object> provenance) {
    return trainAndEvaluate(spark, featured, null, baseId, preprocessingId, featureSize, cfg, cacheRoot, provenance);
  }

  /**
   * As above for rows of {@code split} (their images, featurized, maybe with augmented views):
   * its counts give the classes, tell whether every label is one of them and whether there are
   * validation rows, so none of that costs a job. Null: read from the rows.
   */
  public static Trained trainAndEvaluate(
      SparkSession spark, Dataset<Row> featured, SplitResult split, String baseId, String preprocessingId,
      int featureSize, JobConfig cfg, String cacheRoot, Map<String, Object> provenance) {
    boolean hasSplit = Schemas.hasColumn(featured.schema(), Columns.SPLIT);
    Dataset<Row> trainRows = hasSplit ? featured.where(col(Columns.SPLIT).equalTo("train")) : featured;
    Map<String, Long> trainCounts = split == null ? null : split.distinctImages().get(StratifiedSplit.TRAIN);
    List<String> classes;
    boolean labelsKnown = false;
    if (hasSplit && trainCounts != null && trainCounts.values().stream().filter(n -> n > 0).count() >= 2) {
      classes = TrainingRows.inClassOrder(
          trainCounts.entrySet().stream().filter(e -> e.getValue() > 0).map(Map.Entry::getKey).toList());
      List<String> known = classes;
      labelsKnown = split.distinctImages().values().stream().allMatch(c -> known.containsAll(c.keySet()));
    } else {
      classes = TrainingRows.classes(trainRows);
    }
    Dataset<Row> indexed = TrainingRows.withLabelIndex(featured, classes, !labelsKnown);
    Dataset<Row> train =
        TrainingRows.inStableOrder(hasSplit ? indexed.where(col(Columns.SPLIT).equalTo("train")) : indexed);
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
    boolean hasValidation =
        labelsKnown ? split.distinctImages().containsKey(StratifiedSplit.VALIDATION) : validation != null && !validation.isEmpty();
    if (hasValidation) {
      metrics = evaluateValidation(spark, validation, bundle, cfg, cacheRoot, !labelsKnown);
      bundle = bundle.withMetrics(Json.parseObject(metrics.toJson(), "metrics"));
    }
    return new Trained(bundle, trained, metrics, search, null);
  }

  /** Validation metrics of a bundle on the original views, with test-time augmentation if set. */
  private static ClassificationMetrics evaluateValidation(
      SparkSession spark, Dataset<Row> validation, ModelBundle bundle, JobConfig cfg, String cacheRoot,
      boolean checkLabels) {
    Dataset<Row> rows = validation.drop(Columns.LABEL_INDEX);
    if (Schemas.hasColumn(rows.schema(), Columns.VIEW)) {
      rows = rows.where(col(Columns.VIEW).equalTo("original")).drop(Columns.VIEW);
    }
    try (TtaFeatures tta = FeatureStage.withTta(spark, rows, bundle.baseId(), cfg, cacheRoot)) {
      return Evaluation.evaluate(tta.rows(), bundle, cfg.predictBatchSize, tta.viewColumns(), checkLabels);
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
    try (TrainingFeatures frozen = FeatureStage.featurizeForTraining(spark, images, frozenId, cfg, cacheRoot)) {
      Dataset<Row> indexed = TrainingRows.withLabelIndex(frozen.rows(), classes).persist();
      try {
        Dataset<Row> train = TrainingRows.inStableOrder(indexed.where(col(Columns.SPLIT).equalTo("train")));
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
        ClassificationMetrics metrics = evaluateValidation(spark, validation, bundle, cfg, cacheRoot, true);
        bundle = bundle.withMetrics(Json.parseObject(metrics.toJson(), "metrics"));
        return new Trained(bundle, head, metrics, null, tuned);
      } finally {
        indexed.unpersist();
      }
    }
  }

  private static double bestValidationLoss(TrainedHead head) {
    return head.history().isEmpty() ? Double.NaN : head.history().get(head.bestEpoch()).validationLoss();
  }
}
