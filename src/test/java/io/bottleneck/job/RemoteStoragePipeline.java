package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.LocalSpark;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole job on a remote file system, as a user runs it on a cluster's storage: images
 * uploaded there, and input, run directory, feature cache, model bundle and predictions all
 * URIs of that store. Nothing of the run may land in the local working directory. Subclasses
 * start a real server and say how to reach it ({@link HdfsIT}, {@link S3IT}).
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
abstract class RemoteStoragePipeline {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int TRAIN_IMAGES = 80;
  static final int VALIDATION_IMAGES = 16; // test-size 0.2 of 80
  static final int PREDICT_IMAGES = 12;

  /** The jobs' working directory (static: set before the subclasses' @BeforeAll methods run). */
  @TempDir static Path work;
  /** Every launcher run of this class, for checks over all of their output. */
  final List<Launcher.Result> runs = new ArrayList<>();

  /** The store's URI of {@code path} (relative, no leading slash). */
  abstract String uri(String path);

  /** Copies the files of a local directory to {@code path} on the store. */
  abstract void upload(Path localDir, String path) throws IOException;

  /** Files under {@code path} on the store, recursively, relative to it. */
  abstract List<String> listFiles(String path) throws IOException;

  abstract byte[] read(String path) throws IOException;

  /** Environment of every job (credentials, for stores that need them). */
  Map<String, String> environment() {
    return Map.of();
  }

  /** Options every job gets first (a --conf file with the store's settings). */
  List<String> storageOptions() throws IOException {
    return List.of();
  }

  /** Local files a test itself put in the working directory, allowed to be there. */
  List<Path> ownLocalFiles() {
    return List.of();
  }

  Launcher.Result bottleneck(String command, String... options) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>();
    args.add(command);
    args.addAll(storageOptions());
    args.addAll(List.of(options));
    Launcher.Result r = Launcher.run(work, environment(), args.toArray(new String[0]));
    runs.add(r);
    return r;
  }

  String readString(String path) throws IOException {
    return new String(read(path), StandardCharsets.UTF_8);
  }

  JsonNode readJson(String path) throws IOException {
    return JSON.readTree(read(path));
  }

  void uploadSample() throws IOException {
    upload(Launcher.sample("train").toPath(), "data/train");
    upload(Launcher.sample("predict").toPath(), "data/predict");
  }

  @Test
  @Order(1)
  void pipelineReadsAndWritesOnlyTheStore() throws Exception {
    Launcher.Result r =
        bottleneck(
            "pipeline", "--input", uri("data/train"), "--label-from", "filename", "--output", uri("runs/r1"),
            "--set", "featurize.cache=" + uri("cache"), "--predict-input", uri("data/predict"),
            "--epochs", "2", "--run-id", "r1");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout()).contains("run directory: " + uri("runs/r1"));

    JsonNode printed = JSON.readTree(r.lastLine());
    assertThat(printed.get("n").asInt()).isEqualTo(VALIDATION_IMAGES);
    assertThat(printed.get("accuracy").asDouble()).isBetween(0.0, 1.0);
    JsonNode metrics = readJson("runs/r1/metrics.json");
    assertThat(metrics.get("n").asInt()).isEqualTo(VALIDATION_IMAGES);
    assertThat(metrics.get("accuracy").asDouble()).isEqualTo(printed.get("accuracy").asDouble());
    assertThat(metrics.at("/per_class/cat/support").asInt() + metrics.at("/per_class/dog/support").asInt())
        .isEqualTo(VALIDATION_IMAGES);

    JsonNode bundle = readJson("runs/r1/model/bundle.json");
    assertThat(bundle.get("classes").toString()).isEqualTo("[\"cat\",\"dog\"]");
    assertThat(bundle.at("/training/input").asText()).isEqualTo(uri("data/train"));
    assertThat(bundle.at("/training/feature_cache").asText()).isEqualTo(uri("cache"));
    assertThat(read("runs/r1/model/head.zip").length).isGreaterThan(1000);
    assertThat(readString("runs/r1/history.csv").lines()).hasSize(3); // header + 2 epochs

    JsonNode summary = readJson("runs/r1/summary.json");
    assertThat(summary.at("/ingest/accepted").asLong()).isEqualTo(TRAIN_IMAGES);
    assertThat(summary.at("/featurize/computed").asLong()).isEqualTo(TRAIN_IMAGES);
    assertThat(summary.at("/predict/predicted").asLong()).isEqualTo(PREDICT_IMAGES);

    assertThat(listFiles("cache"))
        .as("feature cache on the store")
        .anyMatch(f -> f.startsWith("base=mobilenet_v2_1.0/") && f.endsWith(".parquet"));
    Dataset<Row> predictions = LocalSpark.session().read().parquet(uri("runs/r1/predictions"));
    assertThat(predictions.where("run_id = 'r1'").count()).isEqualTo(PREDICT_IMAGES);
    assertThat(predictions.where("run_id = 'r1'").select("path").as(org.apache.spark.sql.Encoders.STRING()).collectAsList())
        .allMatch(p -> p.startsWith(uri("data/predict/")));

    assertThat(localFilesWritten()).as("files the job wrote to the local working directory").isEmpty();
  }

  @Test
  @Order(2)
  void evaluateLoadsTheBundleAndReusesTheCacheOnTheStore() throws Exception {
    Launcher.Result r =
        bottleneck(
            "evaluate", "--model", uri("runs/r1/model"), "--input", uri("data/train"), "--label-from", "filename",
            "--cache", uri("cache"), "--output", uri("eval"));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).contains("all " + TRAIN_IMAGES + " distinct images found in the cache " + uri("cache"));
    assertThat(JSON.readTree(r.lastLine()).get("n").asInt()).isEqualTo(TRAIN_IMAGES);
    assertThat(readJson("eval/metrics.json").get("n").asInt()).isEqualTo(TRAIN_IMAGES);
  }

  @Test
  @Order(3)
  void predictWritesCsvOnTheStore() throws Exception {
    Launcher.Result r =
        bottleneck(
            "predict", "--model", uri("runs/r1/model"), "--input", uri("data/predict"), "--cache", uri("cache"),
            "--output", uri("preds"), "--format", "csv", "--run-id", "p1");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(JSON.readTree(r.lastLine()).get("predicted").asLong()).isEqualTo(PREDICT_IMAGES);
    List<String> csvFiles = listFiles("preds").stream().filter(f -> f.endsWith(".csv")).toList();
    assertThat(csvFiles).hasSize(1).allMatch(f -> f.startsWith("run_id=p1/"));
    List<String> lines = readString("preds/" + csvFiles.get(0)).lines().toList();
    assertThat(lines).hasSize(1 + PREDICT_IMAGES);
    assertThat(lines.subList(1, lines.size())).allMatch(l -> l.matches("[^,]+,(cat|dog)," + uri("data/predict/") + ".*"));
    assertThat(localFilesWritten()).isEmpty();
  }

  /** Files in the working directory that the tests did not put there. */
  List<Path> localFilesWritten() throws IOException {
    try (Stream<Path> files = Files.walk(work)) {
      return files.filter(Files::isRegularFile).filter(f -> !ownLocalFiles().contains(f)).toList();
    }
  }
}
