package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.TinyOnnx;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The job on a real Spark standalone cluster on this machine (master and 2 workers on
 * loopback, started by submit/standalone/start-cluster.sh from the project's own Spark jars),
 * submitted with submit/cluster-submit: client and cluster deploy mode, featurization in
 * executors on both workers, a worker killed during featurization, a driver killed mid-run.
 */
@Tag("integration")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandaloneClusterIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SEED = "7";
  private static final int PREDICT_IMAGES = 12;
  private Path work;
  private Path clusterDir;
  private Properties cluster;
  /** Predictions (path to label and probabilities) of the clean client-mode run. */
  private Map<String, List<Object>> cleanPredictions;

  @BeforeAll
  void startCluster() throws Exception {
    work = Files.createTempDirectory("bottleneck-cluster-it");
    clusterDir = work.resolve("cluster");
    long t0 = System.nanoTime();
    Processes.Result started =
        Processes.run(Map.of(), List.of("submit/standalone/start-cluster.sh", "--dir", clusterDir.toString(),
            "--workers", "2", "--worker-cores", "2", "--worker-memory", "3g"));
    assertThat(started.exitCode()).as(started.toString()).isZero();
    cluster = new Properties();
    try (var in = Files.newBufferedReader(clusterDir.resolve("cluster.env"))) {
      cluster.load(in);
    }
    assertThat(started.stdout().strip()).isEqualTo(cluster.getProperty("MASTER_URL"));
    System.out.printf("cluster started in %.1f s: %s%n", (System.nanoTime() - t0) / 1e9, cluster.getProperty("MASTER_URL"));
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (clusterDir != null) {
      Processes.Result stopped = Processes.run(Map.of(), List.of("submit/standalone/stop-cluster.sh", "--dir", clusterDir.toString()));
      assertThat(stopped.exitCode()).as(stopped.toString()).isZero();
    }
  }

  @Test
  @Order(1)
  void clientModeFeaturizesInExecutorsOnBothWorkers() throws Exception {
    Set<String> appsBefore = applications();
    Launcher.Result r = submit("client", "client", "c1");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertSummary(JSON.readTree(r.lastLine()));
    assertThat(r.stderr()).contains("featurize: computed 80 distinct images");
    assertFeaturizedOnBothWorkers(newApplication(appsBefore));
    cleanPredictions = predictions(work.resolve("client/run/predictions"), "c1");
    assertThat(cleanPredictions).hasSize(PREDICT_IMAGES);
    System.out.printf("client mode: %.1f s%n", r.seconds());
  }

  @Test
  @Order(2)
  void clusterModeRunsTheDriverOnAWorker() throws Exception {
    Set<String> appsBefore = applications();
    Set<Path> driversBefore = driverDirs();
    Launcher.Result r = submit("cluster", "cluster", "k1");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    Set<Path> drivers = driverDirs();
    drivers.removeAll(driversBefore);
    assertThat(drivers).as("driver-* folders of this submission").hasSize(1);
    Path driver = drivers.iterator().next();
    String stdout = Files.readString(driver.resolve("stdout"));
    List<String> lines = stdout.lines().filter(l -> !l.isBlank()).toList();
    assertThat(lines).as("driver stdout; stderr: " + Files.readString(driver.resolve("stderr"))).isNotEmpty();
    assertSummary(JSON.readTree(lines.get(lines.size() - 1)));
    assertFeaturizedOnBothWorkers(newApplication(appsBefore));
    // same seed, same data: the same predictions as in client mode
    assertSamePredictions(predictions(work.resolve("cluster/run/predictions"), "k1"));
    System.out.printf("cluster mode: %.1f s%n", r.seconds());
  }

  @Test
  @Order(4)
  void driverKilledMidRunThenReRunReusesTheCacheWithoutDuplicates() throws Exception {
    // run id k1 again, whose 12 rows the cluster-mode run wrote to the table, with a cache of
    // its own so that the killed run computes features
    List<String> command = submitCommand("driverkill", "k1");
    Path stderr = work.resolve("driverkill-killed.err");
    Process driver = start(command, "client", stderr);
    // featurization is over (its cache folder written) when the driver logs this line
    awaitLine(driver, stderr, l -> l.contains("featurize: computed 80 distinct images"), "featurization to finish");
    driver.destroyForcibly(); // SIGKILL to the driver JVM (the script exec'd it): no cleanup
    assertThat(driver.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(driver.exitValue()).isEqualTo(137);
    assertThat(work.resolve("driverkill/run/summary.json")).doesNotExist();

    Launcher.Result rerun = submit("client", "driverkill", "k1");
    assertThat(rerun.exitCode()).as(rerun.toString()).isZero();
    assertThat(rerun.stderr()).contains("featurize: all 80 distinct images found in the cache");
    JsonNode summary = JSON.readTree(work.resolve("driverkill/run/summary.json").toFile());
    assertThat(summary.at("/featurize/computed").asLong()).isZero();
    assertThat(summary.at("/featurize/from_cache").asLong()).isEqualTo(80);
    assertSamePredictions(predictions(work.resolve("driverkill/run/predictions"), "k1"));

    // the table holds each image once for k1: the re-run replaced the cluster-mode run's rows
    List<Row> rows =
        LocalSpark.session().read().parquet(work.resolve("catalog/warehouse/cluster_predictions").toString())
            .where("run_id = 'k1'").select("path").collectAsList();
    assertThat(rows).hasSize(PREDICT_IMAGES);
    assertThat(rows.stream().map(r -> r.getString(0)).distinct().count()).isEqualTo(PREDICT_IMAGES);
    System.out.printf("driver kill: re-run %.1f s%n", rerun.seconds());
  }

  @Test
  @Order(5)
  void workerKilledDuringFeaturizationStillGivesTheSameOutputs() throws Exception {
    Set<String> appsBefore = applications();
    List<String> command = submitCommand("workerkill", "w1");
    Path stderr = work.resolve("workerkill.err");
    long t0 = System.nanoTime();
    Process driver = start(command, "client", stderr);
    Path workerDir = Path.of(cluster.getProperty("WORKER_2_DIR"));
    // an executor of worker 2 has started a featurize task of this application
    awaitLine(driver, null, l -> false, "a featurize task on worker 2", () -> featurizeLines(workerDir, appsBefore).stream()
        .anyMatch(l -> l.contains("started on executor")));
    long workerGroup = Long.parseLong(cluster.getProperty("WORKER_2_PID"));
    Process kill = new ProcessBuilder("kill", "-KILL", "--", "-" + workerGroup).inheritIO().start();
    assertThat(kill.waitFor()).isZero(); // the worker and its executor, at once

    assertThat(driver.waitFor(10, TimeUnit.MINUTES)).as("job finished").isTrue();
    String err = Files.readString(stderr);
    Launcher.Result r =
        new Launcher.Result(driver.exitValue(), Files.readString(stdoutOf(stderr)), err, (System.nanoTime() - t0) / 1e9);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertSummary(JSON.readTree(r.lastLine()));
    // the executor was lost mid-job, its tasks ran again elsewhere: every image featurized once
    assertThat(err).containsPattern("Lost executor \\d+ on 127\\.0\\.0\\.1: worker lost");
    assertThat(err).contains("featurize: computed 80 distinct images");
    assertSamePredictions(predictions(work.resolve("workerkill/run/predictions"), "w1"));
    System.out.printf("worker kill: %.1f s%n", r.seconds());
  }

  // --- submission

  /**
   * submit/cluster-submit standalone with test-sized resources; output and feature cache under
   * work/name, one catalog for all runs; all paths absolute (a cluster-mode driver runs in a
   * folder of the worker).
   */
  private List<String> submitCommand(String name, String runId) {
    Path dir = work.resolve(name);
    Path catalog = work.resolve("catalog");
    return List.of("submit/cluster-submit", "standalone", "pipeline",
        "--input", Launcher.sample("train").getAbsolutePath(),
        "--predict-input", Launcher.sample("predict").getAbsolutePath(),
        "--output", dir.resolve("run").toString(),
        "--set", "predict.table=cluster_predictions",
        "--run-id", runId, "--seed", SEED, "--epochs", "2",
        "--set", "featurize.cache=" + dir.resolve("feature-cache"),
        // small batches: featurization spans several tasks on each executor
        "--set", "featurize.batch-size=8",
        "--set", "catalog.warehouse-dir=" + catalog.resolve("warehouse"),
        "--set", "catalog.metastore-dir=" + catalog.resolve("metastore"));
  }

  private Map<String, String> submitEnv(String deployMode) {
    Map<String, String> env = new HashMap<>();
    env.put("BOTTLENECK_MASTER", cluster.getProperty("MASTER_URL"));
    env.put("BOTTLENECK_DEPLOY_MODE", deployMode);
    // one 1-core executor per worker (the master spreads them out); a cluster-mode driver
    // takes the second core of one worker
    env.put("BOTTLENECK_EXECUTOR_CORES", "1");
    env.put("BOTTLENECK_TOTAL_CORES", "2");
    env.put("BOTTLENECK_EXECUTOR_MEMORY", "1g");
    env.put("BOTTLENECK_EXECUTOR_OVERHEAD", "1g");
    env.put("BOTTLENECK_DRIVER_MEMORY", "1500m");
    env.put("SPARK_SUBMIT_OPTS_EXTRA", "--conf spark.ui.enabled=false --conf spark.driver.host=127.0.0.1");
    return env;
  }

  private Launcher.Result submit(String deployMode, String name, String runId) throws Exception {
    Path stderr = work.resolve(name + "-" + System.nanoTime() + ".err");
    long t0 = System.nanoTime();
    Process p = start(submitCommand(name, runId), deployMode, stderr);
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(name + " did not finish in 10 minutes; stderr in " + stderr);
    }
    return new Launcher.Result(p.exitValue(), Files.readString(stdoutOf(stderr)), Files.readString(stderr), (System.nanoTime() - t0) / 1e9);
  }

  private Process start(List<String> command, String deployMode, Path stderr) throws IOException {
    List<String> absolute = new ArrayList<>(command);
    absolute.set(0, Launcher.ROOT.resolve(command.get(0)).toString());
    ProcessBuilder pb =
        new ProcessBuilder(absolute).directory(work.toFile()).redirectOutput(stdoutOf(stderr).toFile()).redirectError(stderr.toFile());
    pb.environment().putAll(submitEnv(deployMode));
    return pb.start();
  }

  private static Path stdoutOf(Path stderr) {
    return stderr.resolveSibling(stderr.getFileName().toString().replace(".err", ".out"));
  }

  private void awaitLine(Process p, Path log, Predicate<String> line, String what) throws Exception {
    awaitLine(p, log, line, what, () -> false);
  }

  /** Waits (5 min at most) until log has a matching line or condition holds; fails if p ends first. */
  private void awaitLine(Process p, Path log, Predicate<String> line, String what, java.util.concurrent.Callable<Boolean> condition)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      if (log != null && Files.exists(log) && Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(line)) {
        return;
      }
      if (condition.call()) {
        return;
      }
      assertThat(p.isAlive()).as("job still running while waiting for " + what + (log == null ? "" : "; log " + log)).isTrue();
      Thread.sleep(200);
    }
    p.destroyForcibly();
    throw new AssertionError("timed out waiting for " + what);
  }

  /**
   * A declared ONNX base in the external data format on the driver's disk (how models over 2 GB
   * are stored), and a self-contained one over spark.bottleneck.model.broadcastLimit: both reach
   * the executors on the workers as files (SparkContext.addFile), where the files are checked
   * against the declaration's hash, and give the features a local run gives.
   */
  @Test
  @Order(3)
  void largeAndExternalDataModelsShipToTheExecutorsAsFiles() throws Exception {
    Path models = work.resolve("models");
    Files.createDirectories(models.resolve("split"));
    byte[] whole = new TinyOnnx(31, 64, false).model(false);
    Files.write(models.resolve("whole.onnx"), whole);
    Files.write(models.resolve("split/model.onnx"), TinyOnnx.withExternalData(whole, models.resolve("split"), "weights/tiny.data"));
    Path conf = work.resolve("tiny.conf");
    Files.writeString(conf, """
        bottleneck.bases {
          tiny_whole { format = onnx, uri = "%s", input-size = 64, preprocessing = tf, output = features, pooling = none }
          tiny_split { format = onnx, uri = "%s", input-size = 64, preprocessing = tf, output = features, pooling = none }
        }
        """.formatted(models.resolve("whole.onnx").toUri(), models.resolve("split/model.onnx").toUri()));
    Launcher.Result ingest = Launcher.run(work, "ingest", "--input", Launcher.sample("train").getAbsolutePath(),
        "--output", work.resolve("ingested").toString());
    assertThat(ingest.exitCode()).as(ingest.toString()).isZero();
    String images = work.resolve("ingested/images").toString();

    Launcher.Result local = Launcher.run(work, "featurize", "--conf", conf.toString(), "--input", images,
        "--base", "tiny_whole", "--output", work.resolve("tiny-local").toString(), "--cache", work.resolve("tiny-cache-local").toString());
    assertThat(local.exitCode()).as(local.toString()).isZero();
    Map<String, float[]> expected = features(work.resolve("tiny-local"));
    assertThat(expected).hasSize(80);

    for (String base : List.of("tiny_split", "tiny_whole")) {
      Set<String> appsBefore = applications();
      List<String> command = new ArrayList<>(List.of("submit/cluster-submit", "standalone", "featurize",
          "--conf", conf.toString(), "--input", images, "--base", base, "--batch-size", "8",
          "--output", work.resolve("tiny-" + base).toString(), "--cache", work.resolve("tiny-cache-" + base).toString()));
      Path stderr = work.resolve(base + ".err");
      Map<String, String> env = submitEnv("client");
      // the self-contained model: 1 byte over the limit is enough to send it as a file
      env.put("SPARK_SUBMIT_OPTS_EXTRA", env.get("SPARK_SUBMIT_OPTS_EXTRA") + " --conf spark.bottleneck.model.broadcastLimit=1k");
      List<String> absolute = new ArrayList<>(command);
      absolute.set(0, Launcher.ROOT.resolve(command.get(0)).toString());
      ProcessBuilder pb = new ProcessBuilder(absolute).directory(work.toFile())
          .redirectOutput(stdoutOf(stderr).toFile()).redirectError(stderr.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      assertThat(p.waitFor(5, TimeUnit.MINUTES)).as(base + " finished in 5 minutes; stderr in " + stderr).isTrue();
      String err = Files.readString(stderr);
      assertThat(p.exitValue()).as(err).isZero();
      assertThat(err).contains("featurize: base " + base + " (" + (base.equals("tiny_split") ? "external data [weights/tiny.data]" : whole.length + " bytes, over"));
      assertThat(err).contains("ships to the executors as " + (base.equals("tiny_split") ? 2 : 1) + " file(s) with addFile");
      String app = newApplication(appsBefore);
      for (Path workerDir : workerDirs()) {
        assertThat(featurizeLines(workerDir.resolve(app))).as("featurize partitions on " + workerDir).isNotEmpty();
      }
      Map<String, float[]> actual = features(work.resolve("tiny-" + base));
      assertThat(actual.keySet()).isEqualTo(expected.keySet());
      actual.forEach((path, f) -> assertThat(f).as(path).containsExactly(expected.get(path), org.assertj.core.data.Offset.offset(1e-5f)));
    }
  }

  /** path → features of a featurize output. */
  private static Map<String, float[]> features(Path dir) {
    Map<String, float[]> out = new TreeMap<>();
    for (Row row : LocalSpark.session().read().parquet(dir.toString()).select("path", "features").collectAsList()) {
      List<Float> f = row.getList(1);
      float[] v = new float[f.size()];
      for (int i = 0; i < v.length; i++) {
        v[i] = f.get(i);
      }
      out.put(row.getString(0), v);
    }
    return out;
  }

  // --- what ran where

  private Set<String> applications() throws IOException {
    Set<String> apps = new TreeSet<>();
    for (Path workerDir : workerDirs()) {
      try (Stream<Path> s = Files.list(workerDir)) {
        s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("app-")).forEach(apps::add);
      }
    }
    return apps;
  }

  private String newApplication(Set<String> before) throws IOException {
    Set<String> apps = applications();
    apps.removeAll(before);
    assertThat(apps).as("applications of this submission").hasSize(1);
    return apps.iterator().next();
  }

  private Set<Path> driverDirs() throws IOException {
    Set<Path> drivers = new TreeSet<>();
    for (Path workerDir : workerDirs()) {
      try (Stream<Path> s = Files.list(workerDir)) {
        s.filter(p -> p.getFileName().toString().startsWith("driver-")).forEach(drivers::add);
      }
    }
    return drivers;
  }

  private List<Path> workerDirs() {
    int workers = Integer.parseInt(cluster.getProperty("WORKERS"));
    List<Path> dirs = new ArrayList<>();
    for (int i = 1; i <= workers; i++) {
      dirs.add(Path.of(cluster.getProperty("WORKER_" + i + "_DIR")));
    }
    return dirs;
  }

  /** The featurize partition lines in the executor logs of workerDir, of applications not in before. */
  private static List<String> featurizeLines(Path workerDir, Set<String> before) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> apps = Files.list(workerDir)) {
      for (Path app : apps.filter(p -> p.getFileName().toString().startsWith("app-") && !before.contains(p.getFileName().toString())).toList()) {
        lines.addAll(featurizeLines(app));
      }
    }
    return lines;
  }

  private static List<String> featurizeLines(Path app) throws IOException {
    List<String> lines = new ArrayList<>();
    try (Stream<Path> executors = Files.list(app)) {
      for (Path stderr : executors.map(e -> e.resolve("stderr")).filter(Files::exists).toList()) {
        Files.readAllLines(stderr, StandardCharsets.ISO_8859_1).stream().filter(l -> l.contains("featurize partition")).forEach(lines::add);
      }
    }
    return lines;
  }

  /**
   * Each worker's executors of app logged finished featurize partitions covering at least the 92
   * images (the 80 labeled ones and the 12 to predict). At least, not exactly: Spark may run a
   * partition twice (a cached block evicted from a 1 GB executor and recomputed, a retried task),
   * which costs time but changes no output; measured once in CI: 97 (one 5-image partition twice).
   */
  private void assertFeaturizedOnBothWorkers(String app) throws IOException {
    long images = 0;
    for (Path workerDir : workerDirs()) {
      List<String> done =
          featurizeLines(workerDir.resolve(app)).stream().filter(l -> l.matches(".*featurize partition \\d+ .* on executor \\d+: \\d+ images")).toList();
      assertThat(done).as("featurize partitions finished by the executors of " + workerDir).isNotEmpty();
      images += done.stream().mapToLong(l -> Long.parseLong(l.replaceAll(".*: (\\d+) images$", "$1"))).sum();
    }
    assertThat(images).as("images featurized by the executors of both workers").isGreaterThanOrEqualTo(80 + PREDICT_IMAGES);
  }

  // --- outputs

  /** The pipeline's last stdout line: metrics on the 16 validation images (2 epochs: quality is not the point). */
  private static void assertSummary(JsonNode summary) {
    assertThat(summary.get("n").asInt()).isEqualTo(16);
    assertThat(summary.get("accuracy").asDouble()).isBetween(0.0, 1.0);
  }

  /** path -> [predicted_label, probabilities...] of one run's prediction files. */
  private static Map<String, List<Object>> predictions(Path dir, String runId) {
    List<Row> rows = LocalSpark.session().read().parquet(dir.toString()).where("run_id = '" + runId + "'")
        .select("path", "predicted_label", "prob_cat", "prob_dog").collectAsList();
    Map<String, List<Object>> byPath = new TreeMap<>();
    for (Row row : rows) {
      String name = Path.of(row.getString(0).replaceFirst("^file:", "")).getFileName().toString();
      assertThat(byPath.put(name, List.of(row.getString(1), row.getDouble(2), row.getDouble(3)))).as("duplicate " + name).isNull();
    }
    return byPath;
  }

  private void assertSamePredictions(Map<String, List<Object>> actual) {
    assertThat(cleanPredictions).as("predictions of the clean client-mode run").isNotNull();
    assertThat(actual.keySet()).isEqualTo(cleanPredictions.keySet());
    Map<String, Object> labels = new LinkedHashMap<>();
    Map<String, Object> cleanLabels = new LinkedHashMap<>();
    actual.forEach((k, v) -> labels.put(k, v.get(0)));
    cleanPredictions.forEach((k, v) -> cleanLabels.put(k, v.get(0)));
    assertThat(labels).isEqualTo(cleanLabels);
    for (String path : actual.keySet()) {
      for (int i = 1; i < 3; i++) {
        assertThat((Double) actual.get(path).get(i)).as(path).isCloseTo((Double) cleanPredictions.get(path).get(i), org.assertj.core.data.Offset.offset(1e-4));
      }
    }
  }
}
