package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.SyntheticImages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three classes end to end through the shaded jar: generated shapes (circle, square,
 * triangle; {@link SyntheticImages}) in one folder per class, through the pipeline with
 * augmentation, flip test-time augmentation and the two-base ensemble, predicting held-out
 * shapes of the same seed. Metrics, bundle, split and predictions must all be three-class.
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
class MultiClassIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> CLASSES = List.of("circle", "square", "triangle");
  private static final int PER_CLASS = 20;
  private static final int HELD_OUT_PER_CLASS = 5;
  private static final long SEED = 42;

  @TempDir static Path work;
  private static List<Path> heldOut;

  /** 3 x 20 training images in class folders; 3 x 5 other images of the seed, flat: circle.20.jpg... */
  @BeforeAll
  static void generateImages() {
    SyntheticImages.writeFolders(work.resolve("shapes/train"), CLASSES.size(), PER_CLASS, SEED);
    heldOut = SyntheticImages.writeFlat(work.resolve("shapes/held-out"), CLASSES.size(), PER_CLASS, HELD_OUT_PER_CLASS, SEED);
  }

  @Test
  void pipelineTrainsEvaluatesAndPredictsThreeClasses() throws Exception {
    Launcher.Result r =
        Launcher.run(
            work, "pipeline", "--input", "shapes/train", "--label-from", "dir", "--test-size", "0.3", "--seed", "42",
            "--base", "mobilenet_v1_0.25+squeezenet_1.1", "--augment", "2", "--tta", "flip", "--epochs", "15",
            "--output", "shapes/run", "--run-id", "multi", "--predict-input", "shapes/held-out");
    System.out.printf("MultiClassIT: pipeline ran %.1f s; %s%n", r.seconds(), r.lastLine());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Path run = work.resolve("shapes/run");

    // 60 images, test-size 0.3: 18 validation images, 6 per class (stratified)
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("n").asInt()).isEqualTo(18);
    // chance is 1/3; measured 1.0 with seeds 42, 1, 2 and 3 (loss 5e-5 to 0.009). The bar allows
    // one miss in 18: training is not bit-reproducible (parameter averaging sums in task
    // completion order) and some epochs validate at 16 of 18 before early stopping restores
    // the best weights
    assertThat(summary.get("accuracy").asDouble()).as(r.toString()).isGreaterThanOrEqualTo(0.9);
    assertThat(summary.get("auc").asDouble()).as("macro one-vs-rest AUC").isGreaterThanOrEqualTo(0.95);

    JsonNode metrics = JSON.readTree(run.resolve("metrics.json").toFile());
    assertThat(metrics.get("accuracy").asDouble()).isEqualTo(summary.get("accuracy").asDouble());
    assertThat(metrics.get("classes").toString()).isEqualTo("[\"circle\",\"square\",\"triangle\"]");
    assertThat(metrics.at("/confusion_matrix/labels")).isEqualTo(metrics.get("classes"));
    assertThat(metrics.get("per_class").size()).isEqualTo(3);
    JsonNode matrix = metrics.at("/confusion_matrix/matrix");
    assertThat(matrix.size()).isEqualTo(3);
    long cells = 0;
    long diagonal = 0;
    for (int t = 0; t < 3; t++) {
      JsonNode one = metrics.at("/per_class/" + CLASSES.get(t));
      for (String m : List.of("precision", "recall", "f1")) {
        assertThat(one.get(m).asDouble()).as(CLASSES.get(t) + " " + m).isBetween(0.0, 1.0);
      }
      assertThat(one.get("support").asInt()).isEqualTo(6);
      assertThat(matrix.get(t).size()).isEqualTo(3);
      long row = 0;
      long column = 0;
      for (int p = 0; p < 3; p++) {
        row += matrix.get(t).get(p).asLong();
        column += matrix.get(p).get(t).asLong();
      }
      assertThat(row).as("row %d: true %s", t, CLASSES.get(t)).isEqualTo(6);
      long tp = matrix.get(t).get(t).asLong();
      assertThat(one.get("recall").asDouble()).isCloseTo((double) tp / row, within(1e-9));
      assertThat(one.get("precision").asDouble()).isCloseTo(column == 0 ? 0.0 : (double) tp / column, within(1e-9));
      cells += row;
      diagonal += tp;
    }
    assertThat(cells).as("confusion matrix cells sum to the validation count").isEqualTo(18);
    assertThat((double) diagonal / cells).isCloseTo(metrics.get("accuracy").asDouble(), within(1e-9));

    JsonNode bundle = JSON.readTree(run.resolve("model/bundle.json").toFile());
    assertThat(bundle.get("classes").toString()).isEqualTo("[\"circle\",\"square\",\"triangle\"]");
    assertThat(bundle.get("base").asText()).isEqualTo("mobilenet_v1_0.25+squeezenet_1.1");
    assertThat(bundle.get("feature_size").asInt()).isEqualTo(256 + 512);
    assertThat(bundle.at("/metrics/confusion_matrix")).isEqualTo(metrics.get("confusion_matrix"));

    JsonNode runSummary = JSON.readTree(run.resolve("summary.json").toFile());
    assertThat(runSummary.at("/ingest/accepted").asLong()).isEqualTo(60);
    assertThat(runSummary.at("/split/train").asLong()).isEqualTo(42);
    assertThat(runSummary.at("/split/validation").asLong()).isEqualTo(18);
    // 2 augmented views of each of the 42 training images, through each of the 2 bases
    assertThat(runSummary.at("/featurize/augmented_computed").asLong()).isEqualTo(2 * 42 * 2);
    assertThat(runSummary.at("/predict/predicted").asLong()).isEqualTo(heldOut.size());

    SparkSession spark = LocalSpark.session();
    List<Row> split =
        spark.read().parquet(run.resolve("split").toString())
            .groupBy("label", "split").count().orderBy("label", "split").collectAsList();
    List<String> counts = new ArrayList<>();
    split.forEach(row -> counts.add(row.getString(0) + " " + row.getString(1) + " " + row.getLong(2)));
    assertThat(counts)
        .containsExactly(
            "circle train 14", "circle validation 6", "square train 14", "square validation 6",
            "triangle train 14", "triangle validation 6");

    List<Row> predictions =
        spark.read().parquet(run.resolve("predictions").toString()).where("run_id = 'multi'").collectAsList();
    assertThat(spark.read().parquet(run.resolve("predictions").toString()).columns())
        .containsExactly(
            "path", "predicted_label", "prob_circle", "prob_square", "prob_triangle", "model_id", "predicted_at",
            "content_hash", "run_id");
    Set<String> expected = new TreeSet<>();
    heldOut.forEach(p -> expected.add(p.getFileName().toString()));
    Set<String> predicted = new TreeSet<>();
    int correct = 0;
    for (Row row : predictions) {
      String name = Path.of(row.<String>getAs("path").replaceFirst("^file:", "")).getFileName().toString();
      predicted.add(name);
      String label = row.getAs("predicted_label");
      assertThat(label).isIn(CLASSES);
      double[] p = new double[CLASSES.size()];
      double sum = 0;
      int argmax = 0;
      for (int c = 0; c < p.length; c++) {
        p[c] = row.<Double>getAs("prob_" + CLASSES.get(c));
        assertThat(p[c]).isBetween(0.0, 1.0);
        sum += p[c];
        argmax = p[c] > p[argmax] ? c : argmax;
      }
      assertThat(sum).as(name + " probabilities").isCloseTo(1.0, within(1e-5));
      assertThat(label).as(name).isEqualTo(CLASSES.get(argmax));
      assertThat(row.<String>getAs("model_id")).isEqualTo(bundle.get("model_id").asText());
      if (name.startsWith(label + ".")) {
        correct++;
      }
    }
    assertThat(predictions).hasSize(heldOut.size());
    assertThat(predicted).as("one prediction per held-out image").isEqualTo(expected);
    System.out.printf("MultiClassIT: %d of %d held-out images predicted right%n", correct, heldOut.size());
    // measured 15 of 15
    assertThat(correct).as("held-out images predicted right").isGreaterThanOrEqualTo(13);
  }
}
