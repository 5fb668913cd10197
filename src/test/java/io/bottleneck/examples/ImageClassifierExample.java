package io.bottleneck.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.regexp_extract;

import io.bottleneck.ml.DenseHeadClassificationModel;
import io.bottleneck.ml.DenseHeadClassifier;
import io.bottleneck.ml.ImageFeaturizer;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Bottleneck from a user's own Spark code: image files to a fitted, saved and reloaded
 * Pipeline. Uses the library API only (LibraryConsumerIT compiles and runs this file against the
 * plain library jar and its dependencies).
 *
 * <pre>ImageClassifierExample IMAGES_URI MODEL_URI</pre>
 *
 * IMAGES_URI: images named {@code <label>.<n>.jpg} (Kaggle's cats-vs-dogs naming).
 */
public final class ImageClassifierExample {
  private ImageClassifierExample() {}

  public static void main(String[] args) throws java.io.IOException {
    SparkSession spark = SparkSession.builder()
        .master("local[2]")
        .appName("bottleneck-example")
        // DL4J's training on Spark wants Kryo with ND4J's registrator
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .config("spark.kryo.registrator", "io.bottleneck.io.NdArrayKryoRegistrator")
        .getOrCreate();

    // path + label, from the file names
    Dataset<Row> images = spark.read().format("binaryFile").load(args[0])
        .select(col("path"), regexp_extract(col("path"), "([^/.]+)\\.\\d+\\.[a-z]+$", 1).as("label"));
    Dataset<Row>[] parts = images.randomSplit(new double[] {0.75, 0.25}, 42);

    Pipeline pipeline = new Pipeline().setStages(new PipelineStage[] {
        new ImageFeaturizer().setBase("mobilenet_v1_0.25"),          // features: a Vector column
        new DenseHeadClassifier().setEpochs(10).setLearningRate(0.003)  // Keras-like dense head
    });
    PipelineModel model = pipeline.fit(parts[0]);
    model.write().overwrite().save(args[1]);

    PipelineModel loaded = PipelineModel.load(args[1]);
    Dataset<Row> predictions = loaded.transform(parts[1]);
    predictions.select("path", "label", "predictedLabel", "probability").show(5, false);
    long right = predictions.where(col("label").equalTo(col("predictedLabel"))).count();
    long all = predictions.count();
    DenseHeadClassificationModel head = (DenseHeadClassificationModel) loaded.stages()[1];
    System.out.printf("{\"classes\":%s,\"epochs\":%d,\"test_images\":%d,\"accuracy\":%.4f}%n",
        head.labels().stream().map(l -> "\"" + l + "\"").toList(), head.history().size(), all, (double) right / all);
    spark.stop();
  }
}
