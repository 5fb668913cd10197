package io.bottleneck.features;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.io.Columns;
import io.bottleneck.split.StratifiedSplit;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.train.TrainStage;
import io.bottleneck.train.Trained;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Augmentation reaches training rows only, with K cached views per training image; test-time
 * augmentation averages the original's and the mirror image's probabilities.
 */
@ExtendWith(LocalSpark.class)
class AugmentationAndTtaTest {
  @TempDir Path tmp;

  private Path sample(int perClass) throws Exception {
    return io.bottleneck.testing.Samples.catsAndDogs(tmp.resolve("images"), perClass);
  }


  private JobConfig config(String... sets) {
    List<String> all = new java.util.ArrayList<>(List.of(
        "bottleneck.featurize.cache=" + tmp.resolve("cache").toUri(),
        "bottleneck.base=mobilenet_v1_0.25", // the small base: fast, 256 features
        "bottleneck.train.epochs=3",
        "bottleneck.split.test-size=0.4"));
    all.addAll(List.of(sets));
    return ConfigLoader.load(null, all, new HashMap<>());
  }

  @Test
  void augmentedViewsAreTrainingRowsOnlyKPerTrainingImage(SparkSession spark) throws Exception {
    Path images = sample(6);
    JobConfig cfg = config("bottleneck.augment.copies=2", "bottleneck.augment.rotation=15", "bottleneck.augment.zoom=0.1");
    Dataset<Row> split = StratifiedSplit.split(ImageIngest.ingest(spark, images.toString(), "filename", true).images(), cfg.testSize, cfg.seed);
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      List<Row> rows = features.rows().select(Columns.SPLIT, Columns.VIEW, Columns.CONTENT_HASH, Columns.FEATURES).collectAsList();
      Set<String> trainHashes = split.where(col(Columns.SPLIT).equalTo("train")).select(Columns.CONTENT_HASH)
          .collectAsList().stream().map(r -> r.getString(0)).collect(Collectors.toSet());
      long validation = split.where(col(Columns.SPLIT).equalTo("validation")).count();
      assertThat(trainHashes).hasSize(7);
      assertThat(validation).isEqualTo(5);
      assertThat(rows).hasSize(12 + 2 * 7);
      for (Row r : rows) {
        if (!r.getString(1).equals("original")) {
          assertThat(r.getString(0)).as("augmented rows are training rows").isEqualTo("train");
          assertThat(trainHashes).contains(r.getString(2));
        }
      }
      assertThat(rows.stream().filter(r -> r.getString(0).equals("validation")).map(r -> r.getString(1)))
          .hasSize(5).containsOnly("original");
      // each training image: its original and two distinct views
      Map<String, Set<String>> views = rows.stream().filter(r -> r.getString(0).equals("train"))
          .collect(Collectors.groupingBy(r -> r.getString(2), Collectors.mapping(r -> r.getString(1), Collectors.toSet())));
      assertThat(views.values()).allSatisfy(v -> assertThat(v).hasSize(3).contains("original"));
      Set<List<Float>> distinctVectors = new HashSet<>();
      rows.forEach(r -> distinctVectors.add(r.getList(3)));
      assertThat(distinctVectors).hasSize(12 + 2 * 7);
      assertThat(features.augmentedComputed()).isEqualTo(14);
    }
    // a re-run takes every view from the cache
    try (TrainingFeatures again = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      assertThat(again.augmentedComputed()).isZero();
      assertThat(again.augmentedFromCache()).isEqualTo(14);
      assertThat(again.original().computed()).isZero();
    }
  }

  @Test
  void flipTtaAveragesTheProbabilitiesOfTheImageAndItsMirrorImage(SparkSession spark) throws Exception {
    Path images = sample(8);
    JobConfig plain = config();
    JobConfig tta = config("bottleneck.tta=flip");
    Dataset<Row> split = StratifiedSplit.split(ImageIngest.ingest(spark, images.toString(), "filename", true).images(), plain.testSize, plain.seed);
    String cache = FeatureStage.featureCache(spark, plain);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, plain, cache)) {
      Dataset<Row> featured = features.rows().persist();
      Trained trained =
          TrainStage.trainAndEvaluate(spark, featured, plain.base, features.original().preprocessingId(), 256, plain, cache, Map.of());
      Dataset<Row> validation = featured.where(col(Columns.SPLIT).equalTo("validation")).drop(Columns.VIEW);
      long n = validation.count();
      try (TtaFeatures views = FeatureStage.withTta(spark, validation, plain.base, tta, cache)) {
        assertThat(views.viewColumns()).containsExactly(Columns.FEATURES_FLIP);
        Dataset<Row> both = views.rows().persist();
        assertThat(both.count()).isEqualTo(n);
        List<Row> withTta = io.bottleneck.predict.HeadScorer.score(
            both, trained.bundle().head(), trained.bundle().classes(), 4, views.viewColumns())
            .select(Columns.PATH, Columns.PROBABILITIES).collectAsList();
        Map<String, List<Double>> original = probabilities(both, trained, Columns.FEATURES);
        Map<String, List<Double>> mirrored = probabilities(both, trained, Columns.FEATURES_FLIP);
        double largestChange = 0;
        for (Row r : withTta) {
          List<Double> p = r.getList(1);
          List<Double> a = original.get(r.getString(0));
          List<Double> b = mirrored.get(r.getString(0));
          for (int c = 0; c < 2; c++) {
            assertThat(p.get(c)).isCloseTo((a.get(c) + b.get(c)) / 2, org.assertj.core.data.Offset.offset(1e-6));
            largestChange = Math.max(largestChange, Math.abs(p.get(c) - a.get(c)));
          }
        }
        assertThat(largestChange).as("the mirror image changes some probability").isGreaterThan(1e-3);
        both.unpersist();
      }
      // the pipeline's validation metrics with tta = flip score every validation image once
      Trained withTta =
          TrainStage.trainAndEvaluate(spark, featured, plain.base, features.original().preprocessingId(), 256, tta, cache, Map.of());
      ClassificationMetrics metrics = withTta.metrics();
      assertThat(metrics.summaryJson()).contains("\"n\":" + n);
      assertThat(withTta.bundle().training()).containsEntry("tta", "flip");
      featured.unpersist();
    }
  }

  @Test
  void theSameSeedTrainsTheSameModelWhateverOrderTheRowsArriveIn(SparkSession spark) throws Exception {
    Path images = sample(6);
    JobConfig cfg = config("bottleneck.augment.copies=1");
    Dataset<Row> split = StratifiedSplit.split(ImageIngest.ingest(spark, images.toString(), "filename", true).images(), cfg.testSize, cfg.seed);
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      Dataset<Row> featured = features.rows().persist();
      // as a cold and a warm cache deliver them: the same rows, partitioned and ordered otherwise
      Dataset<Row> reordered = featured.repartition(3, col(Columns.PATH)).sortWithinPartitions(col(Columns.PATH).desc());
      assertThat(reordered.select(Columns.PATH).collectAsList()).isNotEqualTo(featured.select(Columns.PATH).collectAsList());
      String prep = features.original().preprocessingId();
      Trained a = TrainStage.trainAndEvaluate(spark, featured, cfg.base, prep, 256, cfg, cache, Map.of());
      Trained b = TrainStage.trainAndEvaluate(spark, reordered, cfg.base, prep, 256, cfg, cache, Map.of());
      // the model id hashes the weights: the same weights, bit for bit
      assertThat(b.bundle().modelId()).isEqualTo(a.bundle().modelId());
      assertThat(b.head().history()).hasSameSizeAs(a.head().history());
      for (int e = 0; e < a.head().history().size(); e++) {
        assertThat(b.head().history().get(e).trainLoss()).isEqualTo(a.head().history().get(e).trainLoss());
        // validation rows are scored in float mini-batches formed in arrival order, and summed in
        // that order: float rounding may differ (seen: 1.2e-7 on a loss of ~0.7), the weights not
        assertThat(b.head().history().get(e).validationLoss())
            .isCloseTo(a.head().history().get(e).validationLoss(), org.assertj.core.data.Offset.offset(1e-6));
      }
      featured.unpersist();
    }
  }

  /** Probabilities per path, scoring {@code column} as the features. */
  private static Map<String, List<Double>> probabilities(Dataset<Row> rows, Trained trained, String column) {
    Dataset<Row> asFeatures = rows.select(col(Columns.PATH), col(column).as(Columns.FEATURES));
    return io.bottleneck.predict.HeadScorer.score(asFeatures, trained.bundle().head(), trained.bundle().classes(), 4)
        .collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getString(0), r -> r.<Double>getList(2)));
  }
}
