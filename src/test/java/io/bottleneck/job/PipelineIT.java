package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.Notebooks;
import io.bottleneck.testing.ReportPages;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded job jar through the launcher, end to end on the sample shipped in data/sample,
 * as a user runs it: exit codes, stdout contract, files written, cache reuse, idempotent
 * prediction writes.
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PipelineIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path work;
  private static Path runDir;

  /** A working directory holding a copy of the sample plus two files ingest must reject. */
  @BeforeAll
  static void copySample() throws IOException {
    Path train = work.resolve("data/sample/train");
    Path predict = work.resolve("data/sample/predict");
    Files.createDirectories(train);
    Files.createDirectories(predict);
    copyAll(Launcher.sample("train").toPath(), train);
    copyAll(Launcher.sample("predict").toPath(), predict);
    byte[] cat = Files.readAllBytes(train.resolve("cat.1.jpg"));
    Files.write(train.resolve("cat.truncated.jpg"), Arrays.copyOf(cat, cat.length / 3));
    Files.writeString(train.resolve("dog.notes.jpg"), "not an image\n");
  }

  private static void copyAll(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  @Test
  @Order(1)
  void usageAndConfigErrorsExitTwoBeforeSparkStarts() throws Exception {
    Launcher.Result unknownKey = Launcher.run(work, "pipeline", "--set", "train.epoch=3");
    assertThat(unknownKey.exitCode()).as(unknownKey.toString()).isEqualTo(2);
    assertThat(unknownKey.stderr()).contains("Unknown configuration key bottleneck.train.epoch");
    assertThat(unknownKey.stderr()).doesNotContain("SparkContext");

    Launcher.Result badNumber = Launcher.run(work, "pipeline", "--test-size", "lots");
    assertThat(badNumber.exitCode()).isEqualTo(2);
    assertThat(badNumber.stderr()).contains("--test-size");

    Launcher.Result noTarget = Launcher.run(work, "predict", "--model", "m", "--input", "x");
    assertThat(noTarget.exitCode()).isEqualTo(2);
    assertThat(noTarget.stderr()).contains("predict needs --output, --table or --jdbc-url");

    // a run-time failure, not a usage error: exit 1 with a message that says what to do
    Path tiny = Files.createDirectories(work.resolve("tiny"));
    Files.copy(work.resolve("data/sample/train/cat.0.jpg"), tiny.resolve("cat.0.jpg"));
    Files.copy(work.resolve("data/sample/train/dog.0.jpg"), tiny.resolve("dog.0.jpg"));
    Launcher.Result noValidation = Launcher.run(work, "pipeline", "--input", "tiny", "--output", "tiny-run");
    assertThat(noValidation.exitCode()).as(noValidation.toString()).isEqualTo(1);
    assertThat(noValidation.stderr()).contains("No class has two or more distinct images, nothing to split");

    Launcher.Result help = Launcher.run(work, "evaluate", "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.stdout()).contains("--model", "--input", "--label-from", "--output", "--conf", "--set");
  }

  @Test
  @Order(2)
  void defaultPipelineTrainsOnTheShippedSample() throws Exception {
    Launcher.Result r = Launcher.run(work, "pipeline");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    // no warnings the user cannot act on (conf/log4j2.properties, -Dorg.bytedeco.javacpp.logger)
    assertThat(r.stderr()).doesNotContain("do not match", "native-hadoop");
    Matcher m = Pattern.compile("run directory: file:(\\S+)").matcher(r.stdout());
    assertThat(m.find()).as(r.toString()).isTrue();
    runDir = Path.of(m.group(1));
    assertThat(runDir.getParent()).isEqualTo(work.resolve("runs").toRealPath());

    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("n").asInt()).isEqualTo(16); // 80 labeled images, test-size 0.2
    // 16 validation images: chance is 0.5, the sample measures 0.81-0.94 (training is not
    // bit-reproducible: parameter averaging sums in task-completion order)
    assertThat(summary.get("accuracy").asDouble()).isGreaterThanOrEqualTo(0.6875);
    assertThat(summary.get("auc").asDouble()).isGreaterThanOrEqualTo(0.75);

    JsonNode metrics = JSON.readTree(runDir.resolve("metrics.json").toFile());
    assertThat(metrics.get("accuracy").asDouble()).isEqualTo(summary.get("accuracy").asDouble());
    assertThat(metrics.at("/confusion_matrix/labels").toString()).isEqualTo("[\"cat\",\"dog\"]");
    assertThat(metrics.at("/per_class/cat/support").asInt()).isEqualTo(8);
    assertThat(metrics.at("/per_class/dog/support").asInt()).isEqualTo(8);

    List<String> history = Files.readAllLines(runDir.resolve("history.csv"));
    assertThat(history.get(0)).isEqualTo("epoch,loss,accuracy,val_loss,val_accuracy,lr");
    assertThat(history.size()).isBetween(2, 31);

    JsonNode bundle = JSON.readTree(runDir.resolve("model/bundle.json").toFile());
    assertThat(bundle.get("base").asText()).isEqualTo("mobilenet_v2_1.0");
    assertThat(bundle.get("classes").toString()).isEqualTo("[\"cat\",\"dog\"]");
    assertThat(runDir.resolve("model/head.zip")).isNotEmptyFile();

    JsonNode run = JSON.readTree(runDir.resolve("summary.json").toFile());
    assertThat(run.at("/ingest/listed").asLong()).isEqualTo(82);
    assertThat(run.at("/ingest/accepted").asLong()).isEqualTo(80);
    assertThat(run.at("/ingest/rejected").asLong()).isEqualTo(2);
    assertThat(run.at("/featurize/computed").asLong()).isEqualTo(80);
    assertThat(run.at("/quality/duplicate_groups").asLong()).isZero();
    assertThat(run.at("/quality/leaked_images").asLong()).isZero();
    assertThat(run.at("/quality/class_counts/train/cat").asLong()).isEqualTo(32);
    assertThat(run.at("/quality/class_counts/validation/dog").asLong()).isEqualTo(8);
    // the sample's 80 photos are all different: no held-out image is a near-copy of a training one
    assertThat(run.at("/quality/near_duplicates/min_similarity").asDouble()).isEqualTo(0.95);
    assertThat(run.at("/quality/near_duplicates/pairs").asLong()).isZero();
    assertThat(run.at("/seconds/near_duplicates").isNumber()).isTrue();
    assertThat(r.stdout()).contains("report: file:" + runDir.resolve("report/index.html"));

    // the report: learning curves (3), confusion matrix, ROC, calibration; thumbnails of the
    // validation images (at least the correct ones: 8 or more of 16), all rendered offline
    Path report = runDir.resolve("report/index.html");
    assertThat(report).isNotEmptyFile();
    assertThat(Files.readString(report)).contains("Rejected files", "not an image", "Class balance", "Duplicates and leakage",
        "Near-duplicates across splits", "<h2>Configuration</h2>", "<td>bottleneck.split.seed</td><td>42</td>",
        "<td>bottleneck.quality.near-duplicates.min-similarity</td><td>0.95</td>");
    ReportPages.assertRendersOffline(report, 6, 8);

    SparkSession spark = LocalSpark.session();
    List<Row> rejects = spark.read().parquet(runDir.resolve("rejects").toString()).orderBy("path").collectAsList();
    assertThat(rejects).hasSize(2);
    assertThat(rejects.get(0).<String>getAs("path")).endsWith("cat.truncated.jpg");
    assertThat(rejects.get(1).<String>getAs("path")).endsWith("dog.notes.jpg");
    assertThat(rejects.get(1).<String>getAs("reason")).contains("not an image");
  }

  /** The sample's images twice over for two of them (copies under new names), for --dedupe. */
  @Test
  @Order(3)
  void secondRunReusesTheFeatureCacheAndPredicts() throws Exception {
    Path dupes = Files.createDirectories(work.resolve("dupes"));
    copyAll(Launcher.sample("train").toPath(), dupes);
    Files.copy(dupes.resolve("cat.5.jpg"), dupes.resolve("cat.5-copy.jpg"));
    Files.copy(dupes.resolve("dog.7.jpg"), dupes.resolve("dog.7b.jpg"));
    Launcher.Result r =
        Launcher.run(
            work, "pipeline", "--input", "dupes", "--dedupe", "--output", "second", "--run-id", "r2", "--epochs", "5",
            "--predict-input", "data/sample/predict");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).contains("all 80 distinct images found in the cache", "--dedupe dropped 2 duplicate file(s)");
    JsonNode run = JSON.readTree(work.resolve("second/summary.json").toFile());
    assertThat(run.at("/featurize/computed").asLong()).isZero();
    assertThat(run.at("/ingest/listed").asLong()).isEqualTo(82);
    assertThat(run.at("/ingest/duplicates_dropped").asLong()).isEqualTo(2);
    assertThat(run.at("/quality/duplicate_groups").asLong()).isZero();
    assertThat(run.at("/split/train").asLong() + run.at("/split/validation").asLong()).isEqualTo(80);
    assertThat(run.at("/predict/predicted").asLong()).isEqualTo(12);
    Dataset<Row> predictions = LocalSpark.session().read().parquet(work.resolve("second/predictions").toString());
    assertThat(predictions.columns())
        .containsExactly(
            "path", "predicted_label", "prob_cat", "prob_dog", "model_id", "predicted_at", "content_hash", "run_id");
    assertThat(predictions.where("run_id = 'r2'").count()).isEqualTo(12);
  }

  @Test
  @Order(4)
  void evaluateABundleOnLabeledImages() throws Exception {
    Launcher.Result r =
        Launcher.run(
            work, "evaluate", "--model", runDir.resolve("model").toString(), "--input", "data/sample/train",
            "--label-from", "filename", "--output", "eval");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("n").asInt()).isEqualTo(80);
    assertThat(summary.get("accuracy").asDouble()).isGreaterThanOrEqualTo(0.85);
    assertThat(r.stderr()).contains("all 80 distinct images found in the cache");
    JsonNode metrics = JSON.readTree(work.resolve("eval/metrics.json").toFile());
    assertThat(metrics.get("n").asInt()).isEqualTo(80);
  }

  @Test
  @Order(5)
  void predictionsAreIdempotentPerRun() throws Exception {
    String model = runDir.resolve("model").toString();
    for (int i = 0; i < 2; i++) {
      Launcher.Result csv =
          Launcher.run(work, "predict", "--model", model, "--input", "data/sample/predict", "--output", "preds",
              "--format", "csv", "--run-id", "p1");
      assertThat(csv.exitCode()).as(csv.toString()).isZero();
      JsonNode report = JSON.readTree(csv.lastLine());
      assertThat(report.get("predicted").asLong()).isEqualTo(12);
    }
    Path partition = work.resolve("preds/run_id=p1");
    List<String> lines;
    try (Stream<Path> files = Files.list(partition)) {
      Path csvFile = files.filter(p -> p.getFileName().toString().endsWith(".csv")).findFirst().orElseThrow();
      lines = Files.readAllLines(csvFile);
    }
    assertThat(lines.get(0)).startsWith("id,label,path,predicted_label,prob_cat,prob_dog,model_id");
    assertThat(lines).hasSize(13); // header + 12, not 24: the second run replaced the first
    assertThat(lines.subList(1, 13)).allMatch(l -> l.matches("\\d+,(cat|dog),file:.*"));

    for (String runId : List.of("t1", "t1", "t2")) {
      Launcher.Result table =
          Launcher.run(work, "predict", "--model", model, "--input", "data/sample/predict", "--table", "bn_predictions",
              "--run-id", runId);
      assertThat(table.exitCode()).as(table.toString()).isZero();
      // the metastore's own WARN lines at each table write ("Updating partition stats fast")
      assertThat(table.stderr()).doesNotContain("partition stats", "Updated size");
    }
    Dataset<Row> rows = LocalSpark.session().read().parquet(work.resolve("spark-warehouse/bn_predictions").toString());
    assertThat(rows.where("run_id = 't1'").count()).isEqualTo(12);
    assertThat(rows.where("run_id = 't2'").count()).isEqualTo(12);
  }

  @Test
  @Order(6)
  void eachStageRunsAloneOnParquetDatasets() throws Exception {
    Launcher.Result ingest =
        Launcher.run(work, "ingest", "--input", "data/sample/train", "--label-from", "filename", "--output", "stages/ingest");
    assertThat(ingest.exitCode()).as(ingest.toString()).isZero();
    assertThat(ingest.lastLine()).isEqualTo("{\"listed\":82,\"accepted\":80,\"rejected\":2,\"skipped\":0}");

    Launcher.Result split =
        Launcher.run(work, "split", "--input", "stages/ingest/images", "--output", "stages/split", "--test-size", "0.25", "--seed", "7");
    assertThat(split.exitCode()).as(split.toString()).isZero();
    assertThat(split.lastLine()).isEqualTo("{\"train\":60,\"validation\":20}");

    Launcher.Result featurize =
        Launcher.run(work, "featurize", "--input", "stages/split", "--output", "stages/features", "--cache", "stages/cache");
    assertThat(featurize.exitCode()).as(featurize.toString()).isZero();
    JsonNode features = JSON.readTree(featurize.lastLine());
    assertThat(features.get("computed").asLong()).isEqualTo(80);
    assertThat(features.get("feature_size").asInt()).isEqualTo(1280);

    Launcher.Result train =
        Launcher.run(work, "train", "--input", "stages/features", "--output", "stages/model", "--epochs", "8");
    assertThat(train.exitCode()).as(train.toString()).isZero();
    assertThat(JSON.readTree(train.lastLine()).get("n").asInt()).isEqualTo(20);
    assertThat(Files.readAllLines(work.resolve("stages/model/history.csv")).size()).isBetween(2, 9);
    assertThat(train.stderr()).contains("Epoch 1/8 - loss: ");

    Launcher.Result evaluate =
        Launcher.run(work, "evaluate", "--model", "stages/model", "--input", "data/sample/train", "--label-from", "filename",
            "--cache", "stages/cache");
    assertThat(evaluate.exitCode()).as(evaluate.toString()).isZero();
    assertThat(evaluate.stderr()).contains("all 80 distinct images found in the cache");
    assertThat(JSON.readTree(evaluate.lastLine()).get("n").asInt()).isEqualTo(80);
  }

  @Test
  @Order(7)
  void threeClassesFromFoldersTrainEndToEnd() throws Exception {
    // cat/ and dog/ from the sample, noise/ generated: labels of any count, from folders
    Path root = work.resolve("three");
    java.util.Random random = new java.util.Random(3);
    for (String label : List.of("cat", "dog", "noise")) {
      Path dir = Files.createDirectories(root.resolve("train").resolve(label));
      for (int i = 0; i < 20; i++) {
        if (label.equals("noise")) {
          java.awt.image.BufferedImage img = new java.awt.image.BufferedImage(160, 120, java.awt.image.BufferedImage.TYPE_INT_RGB);
          for (int y = 0; y < 120; y++) {
            for (int x = 0; x < 160; x++) {
              img.setRGB(x, y, random.nextInt(0x1000000));
            }
          }
          javax.imageio.ImageIO.write(img, "png", dir.resolve("noise" + i + ".png").toFile());
        } else {
          Files.copy(work.resolve("data/sample/train/" + label + "." + i + ".jpg"), dir.resolve(label + i + ".jpg"));
        }
      }
    }
    Launcher.Result r =
        Launcher.run(work, "pipeline", "--input", "three/train", "--label-from", "dir", "--output", "three/run",
            "--epochs", "15", "--run-id", "three");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode summary = JSON.readTree(r.lastLine());
    assertThat(summary.get("n").asInt()).isEqualTo(12); // ceil(0.2 * 60), 4 per class
    assertThat(summary.get("accuracy").asDouble()).isGreaterThanOrEqualTo(0.6);
    JsonNode metrics = JSON.readTree(work.resolve("three/run/metrics.json").toFile());
    assertThat(metrics.at("/confusion_matrix/labels").toString()).isEqualTo("[\"cat\",\"dog\",\"noise\"]");
    for (String label : List.of("cat", "dog", "noise")) {
      assertThat(metrics.at("/per_class/" + label + "/support").asInt()).isEqualTo(4);
    }
    // generated noise is trivially apart from photographs
    assertThat(metrics.at("/per_class/noise/recall").asDouble()).isEqualTo(1.0);
    JsonNode bundle = JSON.readTree(work.resolve("three/run/model/bundle.json").toFile());
    assertThat(bundle.get("classes").toString()).isEqualTo("[\"cat\",\"dog\",\"noise\"]");
  }

  /**
   * predict and evaluate with {@code --model A,B}: per image, the mean of the two bundles'
   * probabilities, the label re-taken from the mean, the model id naming both; bundles with
   * other classes are refused, naming both.
   */
  @Test
  @Order(9)
  void severalBundlesAreAveragedAtPredictAndEvaluate() throws Exception {
    String first = runDir.resolve("model").toString(); // predicted run p1 in predictionsAreIdempotentPerRun
    String second = work.resolve("stages/model").toString(); // another split and training
    for (String[] run : List.of(new String[] {second, "p2"}, new String[] {first + "," + second, "p12"})) {
      Launcher.Result r =
          Launcher.run(work, "predict", "--model", run[0], "--input", "data/sample/predict", "--output", "preds",
              "--format", "csv", "--run-id", run[1]);
      assertThat(r.exitCode()).as(r.toString()).isZero();
      assertThat(JSON.readTree(r.lastLine()).get("predicted").asLong()).isEqualTo(12);
    }
    Map<String, String[]> one = predictionCsv("p1");
    Map<String, String[]> two = predictionCsv("p2");
    Map<String, String[]> both = predictionCsv("p12");
    assertThat(both.keySet()).hasSize(12).isEqualTo(one.keySet()).isEqualTo(two.keySet());
    double largestDifference = 0;
    for (String path : both.keySet()) {
      // columns: id, label, path, predicted_label, prob_cat, prob_dog, model_id, predicted_at
      double cat = (Double.parseDouble(one.get(path)[4]) + Double.parseDouble(two.get(path)[4])) / 2;
      double dog = (Double.parseDouble(one.get(path)[5]) + Double.parseDouble(two.get(path)[5])) / 2;
      assertThat(Double.parseDouble(both.get(path)[4])).as(path).isCloseTo(cat, org.assertj.core.api.Assertions.within(1e-9));
      assertThat(Double.parseDouble(both.get(path)[5])).as(path).isCloseTo(dog, org.assertj.core.api.Assertions.within(1e-9));
      assertThat(both.get(path)[3]).as(path).isEqualTo(dog > cat ? "dog" : "cat");
      assertThat(both.get(path)[6]).isEqualTo(one.get(path)[6] + "+" + two.get(path)[6]);
      largestDifference = Math.max(largestDifference, Math.abs(Double.parseDouble(one.get(path)[5]) - Double.parseDouble(two.get(path)[5])));
    }
    assertThat(largestDifference).as("the two bundles are different models").isGreaterThan(0.01);

    Launcher.Result evaluate =
        Launcher.run(work, "evaluate", "--model", first + "," + second, "--input", "data/sample/train",
            "--label-from", "filename", "--output", "eval-both");
    assertThat(evaluate.exitCode()).as(evaluate.toString()).isZero();
    assertThat(JSON.readTree(evaluate.lastLine()).get("n").asInt()).isEqualTo(80);
    assertThat(JSON.readTree(evaluate.lastLine()).get("accuracy").asDouble()).isGreaterThanOrEqualTo(0.85);
    assertThat(Files.readString(work.resolve("eval-both/report/index.html"))).contains(one.values().iterator().next()[6] + "+");

    Launcher.Result otherClasses =
        Launcher.run(work, "predict", "--model", first + "," + work.resolve("three/run/model"), "--input", "data/sample/predict",
            "--output", "preds-refused");
    assertThat(otherClasses.exitCode()).as(otherClasses.toString()).isEqualTo(1);
    assertThat(otherClasses.stderr()).contains("Models to average must have the same classes in the same order", "[cat, dog, noise]");
    assertThat(work.resolve("preds-refused")).doesNotExist();
  }

  /** The rows of predict's CSV output of one run, by path. */
  private static Map<String, String[]> predictionCsv(String runId) throws IOException {
    Map<String, String[]> rows = new java.util.TreeMap<>();
    try (Stream<Path> files = Files.list(work.resolve("preds/run_id=" + runId))) {
      Path csvFile = files.filter(p -> p.getFileName().toString().endsWith(".csv")).findFirst().orElseThrow();
      List<String> lines = Files.readAllLines(csvFile);
      assertThat(lines.get(0)).startsWith("id,label,path,predicted_label,prob_cat,prob_dog,model_id");
      for (String line : lines.subList(1, lines.size())) {
        String[] cells = line.split(",");
        rows.put(cells[2], cells);
      }
    }
    return rows;
  }

  /**
   * The notebooks run against this suite's runs as CI runs them: explore the second run (it
   * predicted: curves, confusion matrix, predictions plots), compare the three-class run
   * with it. nbconvert exits non-zero when a cell fails.
   */
  @Test
  @Order(8)
  void notebooksExecuteAgainstTheRunsOfThisSuite() throws Exception {
    Path notebooks = Launcher.ROOT.resolve("notebooks");
    Notebooks.Executed explore = Notebooks.execute(notebooks.resolve("explore_run.ipynb"),
        Map.of("BOTTLENECK_RUN_DIR", work.resolve("second").toString()), work.resolve("notebooks-out"));
    assertThat(explore.exitCode()).as(explore.log()).isZero();
    assertThat(explore.errors()).isZero();
    assertThat(explore.images()).as("plots in explore_run").isGreaterThanOrEqualTo(3);
    Notebooks.Executed compare = Notebooks.execute(notebooks.resolve("compare_runs.ipynb"),
        Map.of("BOTTLENECK_RUN_DIRS", work.resolve("second") + java.io.File.pathSeparator + work.resolve("three/run")),
        work.resolve("notebooks-out"));
    assertThat(compare.exitCode()).as(compare.log()).isZero();
    assertThat(compare.images()).as("plots in compare_runs").isEqualTo(2);
    assertThat(compare.notebook().toString()).contains("second");
  }
}
