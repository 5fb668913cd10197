package io.bottleneck.ml;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.features.Featurizer;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.nets.architectures.MobileNetV1;
import io.bottleneck.testing.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.ml.tuning.TrainValidationSplit;
import org.apache.spark.ml.tuning.TrainValidationSplitModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The Spark ML stages: in a Pipeline, persisted and loaded, tuned, on paths and on bytes. */
@ExtendWith(LocalSpark.class)
class SparkMlStagesTest {
  @TempDir static Path tmp;
  private static Path images;

  @BeforeAll
  static void copyImages() throws Exception {
    images = tmp.resolve("images");
    Files.createDirectories(images);
    try (var files = Files.list(Path.of("data/sample/train"))) {
      // 12 cats and 12 dogs
      for (Path p : files.sorted().filter(p -> p.getFileName().toString().matches("(cat|dog)\\.(\\d|1[01])\\.jpg")).toList()) {
        Files.copy(p, images.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** path, label (cat/dog): a user's own Dataset, not Bottleneck's ingest output. */
  private static Dataset<Row> labeled(SparkSession spark) {
    return spark.read().format("binaryFile").load(images.toUri().toString())
        .select(col("path"), regexp_extract(col("path"), "/(cat|dog)\\.[^/]*$", 1).as("label"));
  }

  private static ImageFeaturizer featurizer() {
    return new ImageFeaturizer().setBase(MobileNetV1.ID).setBatchSize(8)
        .setCacheDir(tmp.resolve("cache").toUri().toString());
  }

  private static DenseHeadClassifier classifier() {
    return new DenseHeadClassifier().setHiddenUnits().setEpochs(6).setLearningRate(0.01).setBatchSize(8)
        .setValidationFraction(0.25).setSeed(7);
  }

  private static Map<String, double[]> probabilities(Dataset<Row> scored) {
    Map<String, double[]> out = new HashMap<>();
    for (Row r : scored.select("path", "probability").collectAsList()) {
      out.put(r.getString(0), ((Vector) r.get(1)).toArray());
    }
    return out;
  }

  @Test
  void aPipelineFitsPredictsAndRoundTripsThroughSaveAndLoad(SparkSession spark) throws Exception {
    Dataset<Row> data = labeled(spark);
    PipelineModel model = new Pipeline().setStages(new PipelineStage[] {featurizer(), classifier()}).fit(data);
    Dataset<Row> scored = model.transform(data);
    assertThat(scored.schema().apply("features").dataType()).isEqualTo(SQLDataTypes.VectorType());
    assertThat(scored.schema().apply("prediction").dataType()).isEqualTo(DataTypes.DoubleType);
    assertThat(scored.schema().apply("probability").dataType()).isEqualTo(SQLDataTypes.VectorType());
    assertThat(scored.schema().apply("predictedLabel").dataType()).isEqualTo(DataTypes.StringType);
    assertThat(scored.columns()).startsWith("path", "label"); // rows keep their columns
    DenseHeadClassificationModel head = (DenseHeadClassificationModel) model.stages()[1];
    assertThat(head.labels()).containsExactly("cat", "dog");
    assertThat(head.history()).isNotEmpty().hasSizeLessThanOrEqualTo(6);
    List<Row> rows = scored.select("label", "prediction", "predictedLabel", "probability").collectAsList();
    assertThat(rows).hasSize(24);
    long right = 0;
    for (Row r : rows) {
      double[] p = ((Vector) r.get(3)).toArray();
      assertThat(p[0] + p[1]).isCloseTo(1.0, offset(1e-6));
      assertThat(r.getString(2)).isEqualTo(head.labels().get((int) r.getDouble(1)));
      assertThat(r.getDouble(1)).isEqualTo(p[1] > p[0] ? 1.0 : 0.0);
      right += r.getString(0).equals(r.getString(2)) ? 1 : 0;
    }
    assertThat(right).as("training accuracy of 24 images").isGreaterThanOrEqualTo(18);

    String uri = tmp.resolve("pipeline").toUri().toString();
    model.write().save(uri);
    assertThatThrownBy(() -> model.write().save(uri)).hasMessageContaining("already exists");
    model.write().overwrite().save(uri);
    PipelineModel loaded = PipelineModel.load(uri);
    ImageFeaturizer f = (ImageFeaturizer) loaded.stages()[0];
    assertThat(f.getBase()).isEqualTo(MobileNetV1.ID);
    assertThat(f.getBatchSize()).isEqualTo(8);
    DenseHeadClassificationModel h = (DenseHeadClassificationModel) loaded.stages()[1];
    assertThat(h.labels()).containsExactly("cat", "dog");
    assertThat(h.history()).isEqualTo(head.history());
    Map<String, double[]> before = probabilities(scored);
    Map<String, double[]> after = probabilities(loaded.transform(data));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    after.forEach((path, p) -> assertThat(p).as(path).containsExactly(before.get(path), offset(0.0)));
  }

  @Test
  void featuresAreTheCliStagesAndBytesGiveTheSameAsPaths(SparkSession spark) throws Exception {
    Dataset<Row> byPath = featurizer().transform(labeled(spark));
    Dataset<Row> byBytes = featurizer().setInputCol("content").setOutputCol("vec")
        .transform(spark.read().format("binaryFile").load(images.toUri().toString()));
    Map<String, double[]> a = new HashMap<>();
    byPath.select("path", "features").collectAsList().forEach(r -> a.put(r.getString(0), ((Vector) r.get(1)).toArray()));
    Map<String, double[]> b = new HashMap<>();
    byBytes.select("path", "vec").collectAsList().forEach(r -> b.put(r.getString(0), ((Vector) r.get(1)).toArray()));
    assertThat(a).hasSize(24);
    assertThat(b.keySet()).isEqualTo(a.keySet());
    // the CLI's featurize stage on Bottleneck's own ingest of the same files
    Dataset<Row> ingested = ImageIngest.ingest(spark, images.toUri().toString(), new LabelSource.FilenamePrefix()).images();
    try (Featurizer.Result cli = Featurizer.featurize(spark, ingested, MobileNetV1.ID, "tensorflow",
        tmp.resolve("cli-cache").toUri().toString(), 8, 0)) {
      for (Row r : cli.featured().select("path", "features").collectAsList()) {
        List<Float> f = r.getList(1);
        double[] expected = f.stream().mapToDouble(Float::doubleValue).toArray();
        String path = r.getString(0);
        String key = a.keySet().stream().filter(k -> k.endsWith(path.substring(path.lastIndexOf('/')))).findFirst().orElseThrow();
        assertThat(a.get(key)).as(key).containsExactly(expected, offset(0.0));
        assertThat(b.get(key)).as(key).containsExactly(expected, offset(0.0));
      }
    }
  }

  @Test
  void invalidImagesFailSkipOrKeepWithTheirReason(SparkSession spark) throws Exception {
    Path bad = tmp.resolve("bad");
    Files.createDirectories(bad);
    Files.copy(images.resolve("cat.0.jpg"), bad.resolve("cat.0.jpg"), StandardCopyOption.REPLACE_EXISTING);
    Files.writeString(bad.resolve("notes.jpg"), "not an image");
    Dataset<Row> data = spark.read().format("binaryFile").load(bad.toUri().toString()).select("path");
    assertThatThrownBy(() -> featurizer().transform(data))
        .hasMessageContaining("1 image(s) of column path cannot be featurized")
        .hasMessageContaining("notes.jpg")
        .hasMessageContaining("handleInvalid");
    assertThat(featurizer().setHandleInvalid("skip").transform(data).count()).isEqualTo(1);
    Dataset<Row> kept = featurizer().setHandleInvalid("keep").transform(data);
    Map<String, Row> byName = new HashMap<>();
    kept.collectAsList().forEach(r -> byName.put(r.getString(0).replaceAll(".*/", ""), r));
    assertThat(byName.get("notes.jpg").isNullAt(1)).isTrue();
    assertThat(byName.get("notes.jpg").getString(2)).isNotBlank();
    assertThat(byName.get("cat.0.jpg").isNullAt(1)).isFalse();
    assertThat(byName.get("cat.0.jpg").isNullAt(2)).isTrue();
  }

  @Test
  void schemasAreCheckedLikeSparkMlsOwnStages(SparkSession spark) {
    Dataset<Row> numbers = spark.range(3).toDF("path");
    assertThatThrownBy(() -> featurizer().transform(numbers))
        .hasMessage("Column path must be of type string (file URIs) or binary (image bytes) but was actually bigint.");
    assertThatThrownBy(() -> featurizer().setInputCol("uri").transformSchema(numbers.schema()))
        .hasMessageContaining("Input column uri does not exist. Available: path");
    Dataset<Row> withFeatures = labeled(spark).withColumn("features", col("label"));
    assertThatThrownBy(() -> featurizer().transformSchema(withFeatures.schema()))
        .hasMessage("Output column features already exists.");
    assertThatThrownBy(() -> classifier().fit(withFeatures))
        .hasMessageStartingWith("Column features must be of type")
        .hasMessageEndingWith("but was actually string.");
    assertThat(featurizer().explainParams()).contains("base: frozen base").contains("current: mobilenet_v1_0.25")
        .contains("handleInvalid").contains("default: error");
    assertThat(classifier().explainParams()).contains("validationFraction").contains("hiddenUnits");
  }

  @Test
  void trainValidationSplitTunesTheHeadOnNumericLabels(SparkSession spark) {
    Dataset<Row> featured = featurizer().transform(labeled(spark));
    Dataset<Row> indexed = new StringIndexer().setInputCol("label").setOutputCol("labelIndex").fit(featured).transform(featured);
    DenseHeadClassifier head = classifier().setLabelCol("labelIndex").setValidationFraction(0.0).setEpochs(3);
    ParamMap[] grid = new ParamGridBuilder()
        .addGrid(head.learningRate(), new double[] {0.01, 0.0001})
        .build();
    TrainValidationSplitModel tuned = new TrainValidationSplit()
        .setEstimator(head)
        .setEvaluator(new MulticlassClassificationEvaluator().setLabelCol("labelIndex").setMetricName("accuracy"))
        .setEstimatorParamMaps(grid)
        .setTrainRatio(0.75)
        .setSeed(3)
        .fit(indexed);
    assertThat(tuned.validationMetrics()).hasSize(2);
    for (double m : tuned.validationMetrics()) {
      assertThat(m).isBetween(0.0, 1.0);
    }
    DenseHeadClassificationModel best = (DenseHeadClassificationModel) tuned.bestModel();
    assertThat(best.labels()).containsExactly("0", "1");
    assertThat(best.transform(indexed).where(col("prediction").isNull()).count()).isZero();
  }
}
