package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.io.Columns;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.testing.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The head options and the search as the train stage runs them, from the configuration keys. */
@ExtendWith(LocalSpark.class)
class TrainStageTest {
  @TempDir Path tmp;

  private static Dataset<Row> featured;

  /** Featurized rows as the pipeline has them: label, split, features. */
  @BeforeAll
  static void data() {
    SparkSession spark = LocalSpark.session();
    Blobs blobs = new Blobs(2, 8, 1.0, 1.0, 51);
    Dataset<Row> train = blobs.sample(spark, 200, 52, 2).withColumn(Columns.SPLIT, lit("train"));
    Dataset<Row> validation =
        blobs.sample(spark, 60, 53, 2).withColumn(Columns.SPLIT, lit("validation"));
    featured =
        train
            .union(validation)
            .withColumn(Columns.LABEL, when(col(Columns.LABEL_INDEX).equalTo(0), "cat").otherwise("dog"))
            .drop(Columns.LABEL_INDEX)
            .cache();
  }

  private static JobConfig config(String... sets) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "train.epochs=2",
                "train.hidden-units=[8]",
                "train.batch-size=16",
                "train.averaging-frequency=2"));
    all.addAll(List.of(sets));
    return ConfigLoader.load(null, all, Map.of());
  }

  @Test
  void theConfigurationKeysBecomeTheHeadConfig() {
    HeadConfig head =
        TrainStage.headConfig(
            config("train.batch-norm=true", "train.optimizer=rmsprop", "train.class-weights=balanced"));
    assertThat(head)
        .isEqualTo(
            HeadConfig.defaults()
                .withHiddenUnits(List.of(8))
                .withEpochs(2)
                .withBatchSizePerWorker(16)
                .withAveragingFrequency(2)
                .withBatchNorm(true)
                .withOptimizer("rmsprop")
                .withClassWeights(ClassWeights.BALANCED));
  }

  @Test
  void aSearchPicksTheHeadAndItsTrialsGoToTheBundleAndTheRunDirectory(SparkSession spark)
      throws Exception {
    JobConfig cfg =
        config(
            "train.batch-norm=true",
            "train.class-weights=balanced",
            "search.trials=2",
            "search.strategy=grid",
            "search.learning-rate=[0.0001, 0.05]");
    Trained trained =
        TrainStage.trainAndEvaluate(spark, featured, "mobilenet_v1_0.25", "prep", 8, cfg, "unused-cache", Map.of("seed", 42));

    assertThat(trained.search()).isNotNull();
    assertThat(trained.search().trials()).hasSize(2);
    // The grid's second rate learns in 2 epochs; the first hardly moves.
    assertThat(trained.search().best()).isEqualTo(1);
    assertThat(trained.head()).isSameAs(trained.search().bestHead());

    String dir = tmp.toUri().toString();
    TrainingFiles.writeTrials(spark, dir, trained);
    assertThat(Files.readString(tmp.resolve("trials.csv"))).isEqualTo(trained.search().toCsv());
    assertThat(Files.readString(tmp.resolve("trials.json"))).isEqualTo(trained.search().toJson());

    // The bundle records the winning configuration, the resolved class weights and the search.
    String bundleDir = tmp.resolve("model").toUri().toString();
    trained.bundle().save(bundleDir, spark.sparkContext().hadoopConfiguration());
    Map<String, Object> meta =
        Json.parseObject(Files.readString(tmp.resolve("model").resolve(ModelBundle.META_FILE)), "bundle");
    @SuppressWarnings("unchecked")
    Map<String, Object> training = (Map<String, Object>) meta.get("training");
    @SuppressWarnings("unchecked")
    Map<String, Object> head = (Map<String, Object>) training.get("head");
    assertThat(head)
        .containsEntry("learningRate", 0.05)
        .containsEntry("batchNorm", true)
        .containsEntry("optimizer", "adam")
        .containsEntry("classWeights", "balanced");
    // 100 rows of each class: balanced weighs both 1.
    assertThat(training).containsEntry("class_weights", List.of(1.0, 1.0));
    @SuppressWarnings("unchecked")
    Map<String, Object> search = (Map<String, Object>) training.get("search");
    assertThat(search)
        .containsEntry("strategy", "grid")
        .containsEntry("trials_run", 2)
        .containsEntry("best_trial", 1);
    assertThat((List<?>) search.get("trials")).hasSize(2);
    assertThat(training).containsEntry("best_epoch", trained.head().bestEpoch());

    // The saved head (batch norm, weighted loss) loads and scores as the trained one.
    ModelBundle loaded = ModelBundle.load(bundleDir, spark);
    INDArray x = Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 5, 8);
    assertThat(loaded.head().output(x, false)).isEqualTo(trained.head().network().output(x, false));
  }

  @Test
  void withoutASearchThereAreNoTrials(SparkSession spark) throws Exception {
    Trained trained =
        TrainStage.trainAndEvaluate(spark, featured, "mobilenet_v1_0.25", "prep", 8, config(), "unused-cache", Map.of());
    assertThat(trained.search()).isNull();
    assertThat(trained.bundle().training()).doesNotContainKeys("search", "class_weights");
    TrainingFiles.writeTrials(spark, tmp.toUri().toString(), trained);
    assertThat(tmp.resolve("trials.csv")).doesNotExist();
    assertThat(tmp.resolve("trials.json")).doesNotExist();
  }

  @Test
  void explicitClassWeightsMustGiveOneWeightPerClass(SparkSession spark) {
    JobConfig cfg = config("train.class-weights=1,2,3");
    assertThatThrownBy(
            () -> TrainStage.trainAndEvaluate(spark, featured, "mobilenet_v1_0.25", "prep", 8, cfg, "unused-cache", Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "bottleneck.train.class-weights gives 3 weights (1.0,2.0,3.0) but the training set has 2"
                + " classes [cat, dog]; give one weight per class, in this order.");
  }
}
