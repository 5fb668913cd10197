package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.io.Columns;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.split.StratifiedSplit;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.SyntheticImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Fine-tuning the base's last block with the head, and the CNN trained from scratch. */
@ExtendWith(LocalSpark.class)
class FineTuneAndScratchTest {
  @TempDir Path tmp;

  private JobConfig config(String... sets) {
    List<String> all = new ArrayList<>(List.of(
        "bottleneck.featurize.cache=" + tmp.resolve("cache").toUri(),
        "bottleneck.base=mobilenet_v1_0.25", // the small base: fast, 256 features
        "bottleneck.split.test-size=0.25"));
    all.addAll(List.of(sets));
    return ConfigLoader.load(null, all, new HashMap<>());
  }

  private Dataset<Row> split(SparkSession spark, Path images, JobConfig cfg, String labelFrom) {
    return StratifiedSplit.split(ImageIngest.ingest(spark, images.toString(), labelFrom, true).images(), cfg.testSize, cfg.seed);
  }

  private Path catsAndDogs(int perClass) throws Exception {
    return io.bottleneck.testing.Samples.catsAndDogs(tmp.resolve("cats-dogs"), perClass);
  }


  @Test
  void fineTuningTrainsTheLastBlockAndTheHeadOnTheFrozenPartsCachedOutput(SparkSession spark) throws Exception {
    JobConfig cfg = config("train.epochs=3", "fine-tune.blocks=1", "fine-tune.epochs=2", "fine-tune.learning-rate=0.001");
    Dataset<Row> split = split(spark, catsAndDogs(10), cfg, "filename");
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      Dataset<Row> featured = features.rows().persist();
      Trained trained = TrainStage.trainAndEvaluate(
          spark, featured, cfg.base, features.original().preprocessingId(), 256, cfg, cache, Map.of());
      ModelBundle bundle = trained.bundle();
      assertThat(bundle.baseId()).isEqualTo("mobilenet_v1_0.25@tail1");
      assertThat(bundle.featureSize()).isEqualTo(7 * 7 * 256);
      assertThat(trained.fineTuned()).isNotNull();
      assertThat(trained.fineTuned().history()).hasSizeBetween(1, 2);
      assertThat(trained.head().history()).hasSizeBetween(1, 3);
      @SuppressWarnings("unchecked")
      Map<String, Object> fineTune = (Map<String, Object>) bundle.training().get("fine_tune");
      assertThat(fineTune).containsEntry("blocks", 1).containsEntry("frozen_part", "mobilenet_v1_0.25@tail1");
      assertThat(trained.metrics().summaryJson()).contains("\"n\":" + featured.where(col(Columns.SPLIT).equalTo("validation")).count());

      // the tuned network is exactly the unfrozen block + the head: nothing of the frozen part
      MultiLayerNetwork tuned = bundle.head();
      TunableTail tail = TunableTail.of(bundle.baseId());
      MultiLayerNetwork head = trained.head().network();
      assertThat(tuned.getnLayers()).isEqualTo(tail.layerCount() + head.getnLayers());
      assertThat(tuned.getLayer(0).conf().getLayer()).isInstanceOf(DepthwiseConvolution2D.class);
      assertThat(tuned.getLayer(1).conf().getLayer()).isInstanceOf(ConvolutionLayer.class);
      // before training, the fine-tuning network composes to the head on the base's features;
      // training moved the unfrozen block's weights and the head's
      MultiLayerNetwork start = FineTuning.network(tail, head, headConfig(cfg));
      for (int layer : new int[] {0, 1}) {
        INDArray before = start.getLayer(layer).params();
        INDArray after = tuned.getLayer(layer).params();
        assertThat(after.shape()).isEqualTo(before.shape());
        assertThat(after.sub(before).amaxNumber().doubleValue()).as("layer %d moved", layer).isGreaterThan(1e-6);
      }
      Dataset<Row> validation = featured.where(col(Columns.SPLIT).equalTo("validation").and(col(Columns.VIEW).equalTo("original")));
      Map<String, List<Double>> viaHead = probabilities(HeadScorer.score(validation.drop(Columns.VIEW), head, bundle.classes(), 8));
      try (var frozen = FeatureStage.featurize(spark, validation.drop(Columns.FEATURES, Columns.VIEW), bundle.baseId(), cfg, cache)) {
        assertThat(frozen.computed()).as("the frozen part's output comes from the cache").isZero();
        Map<String, List<Double>> viaStart = probabilities(HeadScorer.score(frozen.featured(), start, bundle.classes(), 8));
        assertThat(viaStart.keySet()).isEqualTo(viaHead.keySet());
        viaStart.forEach((path, p) -> assertThat(p.get(0)).isCloseTo(viaHead.get(path).get(0), org.assertj.core.data.Offset.offset(1e-4)));
        // the saved bundle scores the same after a round trip
        String dir = tmp.resolve("bundle").toUri().toString();
        bundle.save(dir, new Configuration());
        ModelBundle loaded = ModelBundle.load(dir, new Configuration());
        Map<String, List<Double>> a = probabilities(HeadScorer.score(frozen.featured(), tuned, bundle.classes(), 8));
        Map<String, List<Double>> b = probabilities(HeadScorer.score(frozen.featured(), loaded.head(), loaded.classes(), 3));
        a.forEach((path, p) -> assertThat(b.get(path).get(0)).isCloseTo(p.get(0), org.assertj.core.data.Offset.offset(1e-6)));
      }
      featured.unpersist();
    }
  }

  /**
   * MobileNetV2 (the default base): its last block (block_16 + Conv_1) trains with the head on
   * the cached input of block_16, 160x7x7 per image; a few images and one epoch each.
   */
  @Test
  void fineTuningMobileNetV2TrainsBlock16AndConv1(SparkSession spark) throws Exception {
    JobConfig cfg = config("base=mobilenet_v2_1.0", "train.epochs=1", "fine-tune.blocks=1", "fine-tune.epochs=1",
        "fine-tune.learning-rate=0.001", "train.batch-size=4");
    Dataset<Row> split = split(spark, catsAndDogs(4), cfg, "filename");
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      Dataset<Row> featured = features.rows().persist();
      Trained trained = TrainStage.trainAndEvaluate(
          spark, featured, cfg.base, features.original().preprocessingId(), 1280, cfg, cache, Map.of());
      ModelBundle bundle = trained.bundle();
      assertThat(bundle.baseId()).isEqualTo("mobilenet_v2_1.0@tail1");
      assertThat(bundle.featureSize()).isEqualTo(160 * 7 * 7);
      assertThat(trained.fineTuned().history()).hasSize(1);
      MultiLayerNetwork tuned = bundle.head();
      TunableTail tail = TunableTail.of(bundle.baseId());
      assertThat(tail.layerCount()).isEqualTo(5);
      assertThat(tuned.getnLayers()).isEqualTo(tail.layerCount() + trained.head().network().getnLayers());
      assertThat(tuned.getLayer(0).conf().getLayer()).isInstanceOf(ConvolutionLayer.class);
      assertThat(tuned.getLayer(1).conf().getLayer()).isInstanceOf(DepthwiseConvolution2D.class);
      assertThat(tuned.getLayer(3).conf().getLayer().getLayerName()).isEqualTo("Conv_1");
      // training moved the pretrained block's weights
      MultiLayerNetwork start = FineTuning.network(tail, trained.head().network(), headConfig(cfg));
      for (int layer = 0; layer < 4; layer++) {
        INDArray before = start.getLayer(layer).params();
        INDArray after = tuned.getLayer(layer).params();
        assertThat(after.shape()).isEqualTo(before.shape());
        assertThat(after.sub(before).amaxNumber().doubleValue()).as("layer %d moved", layer).isGreaterThan(1e-7);
      }
      assertThat(trained.metrics().summaryJson())
          .contains("\"n\":" + featured.where(col(Columns.SPLIT).equalTo("validation")).count());
      featured.unpersist();
    }
  }

  private static io.bottleneck.train.HeadConfig headConfig(JobConfig cfg) {
    return TrainStage.headConfig(cfg).toBuilder().learningRate(cfg.fineTuneLearningRate).build();
  }

  private static Map<String, List<Double>> probabilities(Dataset<Row> scored) {
    return scored.select(Columns.PATH, Columns.PROBABILITIES).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getString(0), r -> r.<Double>getList(1)));
  }

  @Test
  void aCnnFromScratchLearnsThreeShapeClassesFromRawPixels(SparkSession spark) throws Exception {
    Path shapes = tmp.resolve("shapes");
    SyntheticImages.writeFolders(shapes, 3, 20, 42);
    JobConfig cfg = config("base=pixels32", "scratch.filters=[8, 16]", "train.epochs=15", "train.hidden-units=[32]",
        "train.dropout=0.2", "train.learning-rate=0.01", "train.early-stopping.patience=0", "train.reduce-lr.patience=100", "train.batch-size=4",
        "train.averaging-frequency=1");
    Dataset<Row> split = split(spark, shapes, cfg, "dir");
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features = FeatureStage.featurizeForTraining(spark, split, cfg, cache)) {
      assertThat(features.original().featureSize()).isEqualTo(3 * 32 * 32);
      Dataset<Row> featured = features.rows().persist();
      Trained trained = TrainStage.trainAndEvaluate(
          spark, featured, cfg.base, features.original().preprocessingId(), 3 * 32 * 32, cfg, cache, Map.of());
      assertThat(trained.bundle().baseId()).isEqualTo("pixels32");
      assertThat(trained.bundle().classes()).containsExactly("circle", "square", "triangle");
      assertThat(trained.bundle().head().getLayer(0).conf().getLayer()).isInstanceOf(ConvolutionLayer.class);
      assertThat(trained.bundle().training()).containsEntry("scratch_filters", List.of(8, 16));
      List<EpochStats> history = trained.head().history();
      assertThat(history).hasSize(15);
      // it learns: the training loss falls well below chance (ln 3 = 1.10) and below its start
      EpochStats last = history.get(history.size() - 1);
      double lowest = history.stream().mapToDouble(EpochStats::trainLoss).min().orElseThrow();
      double best = history.stream().mapToDouble(EpochStats::trainAccuracy).max().orElseThrow();
      // it learns, slowly: 45 training images, 15 short epochs, well above chance (1/3, ln 3)
      assertThat(lowest).isLessThan(history.get(0).trainLoss() - 0.2);
      assertThat(last.trainLoss()).isLessThan(Math.log(3));
      assertThat(best).isGreaterThanOrEqualTo(0.55);
      assertThat(last.trainAccuracy()).isGreaterThanOrEqualTo(0.5);
      featured.unpersist();
    }
  }

  @Test
  void fineTuningAndScratchRejectWhatTheyCannotDoBeforeSparkStarts() {
    assertThatThrownBy(() -> config("base=squeezenet_1.1", "fine-tune.blocks=3"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.fine-tune.blocks");
    assertThatThrownBy(() -> config("base=mobilenet_v1_0.25+squeezenet_1.1", "fine-tune.blocks=1"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.fine-tune.blocks");
    assertThat(config("base=squeezenet_1.1", "fine-tune.blocks=1").fineTuneBlocks).isEqualTo(1);
    assertThat(config("base=squeezenet_1.1", "fine-tune.blocks=2").fineTuneBlocks).isEqualTo(2);
    assertThat(config("base=mobilenet_v2_1.0", "fine-tune.blocks=1").fineTuneBlocks).isEqualTo(1);
    assertThatThrownBy(() -> config("base=mobilenet_v2_1.0", "fine-tune.blocks=2"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.fine-tune.blocks")
        .hasMessageContaining("mobilenet_v2_1.0 alone, 1 block");
    assertThatThrownBy(() -> config("fine-tune.blocks=3")).isInstanceOf(ConfigError.class);
    assertThatThrownBy(() -> config("base=pixels32", "search.trials=2"))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.search.trials");
    assertThatThrownBy(() -> config("base=pixels8")).isInstanceOf(ConfigError.class).hasMessageContaining("bottleneck.base");
    assertThat(Bases.pixelSize("pixels64")).isEqualTo(64);
  }
}
