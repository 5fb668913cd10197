package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.PostgresServer;
import io.bottleneck.testing.Samples;
import io.bottleneck.train.TrainStage;
import io.bottleneck.train.Trained;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream command through the launcher, one JVM per run as a scheduler runs it, into the
 * embedded catalog, PostgreSQL and a folder at once: images arrive in three waves; wave 1 is
 * one available-now run; during wave 2 a processing-time run is killed (SIGKILL) mid-batch and
 * restarted; wave 3 is a processing-time run stopped by SIGTERM after a batch. Every image ends
 * up once in each target, every reject once, with predict's probabilities.
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StreamIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PASSWORD = "pw-" + UUID.randomUUID();
  @TempDir static Path work;
  private static PostgresServer postgres;
  private static Map<String, String> env;
  private static String model;

  @BeforeAll
  static void setUp() throws Exception {
    postgres = PostgresServer.start(Path.of("target", "postgres-stream-it-" + UUID.randomUUID()), PASSWORD);
    // exec'd JVM (no class-data-sharing recording run in a child): a signal reaches the driver itself
    env = Map.of("BOTTLENECK_JDBC_USER", PostgresServer.USER, "BOTTLENECK_JDBC_PASSWORD", PASSWORD, "BOTTLENECK_CDS", "0");
    // a small model, trained in this JVM
    SparkSession spark = LocalSpark.session();
    JobConfig cfg = ConfigLoader.load(null, List.of("bottleneck.featurize.cache=" + work.resolve("cache").toUri(),
        "bottleneck.base=mobilenet_v1_0.25", "bottleneck.train.epochs=2"), new HashMap<>());
    Path images = Samples.catsAndDogs(work.resolve("train"), 4);
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features =
        FeatureStage.featurizeForTraining(spark, ImageIngest.ingest(spark, images.toString(), "filename", true).images(), cfg, cache)) {
      Trained trained = TrainStage.trainAndEvaluate(
          spark, features.rows(), cfg.base, features.original().preprocessingId(), 256, cfg, cache, Map.of());
      model = work.resolve("model").toString();
      trained.bundle().save(work.resolve("model").toUri().toString(), spark.sparkContext().hadoopConfiguration());
    }
  }

  @AfterAll
  static void tearDown() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  private static List<String> args(String trigger) {
    return List.of("stream", "--model", model, "--input", "input", "--checkpoint", "checkpoint", "--table", "preds",
        "--jdbc-url", postgres.url(), "--output", "out", "--cache", work.resolve("cache").toString(),
        "--max-files-per-trigger", "2", "--trigger", trigger, "--run-id", "s1");
  }

  private static void wave(int first, int last, String... junk) throws Exception {
    Path input = work.resolve("input/incoming");
    Files.createDirectories(input);
    for (int i = first; i <= last; i++) {
      Path hidden = input.resolve("." + i + ".jpg.part"); // copied under a hidden name, then renamed
      Files.copy(Launcher.sample("predict").toPath().resolve(i + ".jpg"), hidden);
      Files.move(hidden, input.resolve(i + ".jpg"));
    }
    for (String name : junk) {
      Files.writeString(input.resolve(name), "not an image", StandardCharsets.UTF_8);
    }
  }

  private static Process start(List<String> args, Path stdout, Path stderr) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Launcher.ROOT.resolve("submit/bottleneck").toString());
    command.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(command).directory(work.toFile())
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    pb.environment().putAll(env);
    return pb.start();
  }

  private static void awaitLine(Process p, Path log, Predicate<String> line, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readAllLines(log, StandardCharsets.UTF_8).stream().anyMatch(line)) {
        return;
      }
      assertThat(p.isAlive()).as("job still running while waiting for " + what + "; log " + Files.readString(log)).isTrue();
      Thread.sleep(100);
    }
    p.destroyForcibly();
    throw new AssertionError("timed out waiting for " + what);
  }

  private static List<String> jdbc(String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = postgres.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
          values.add(r.getString(i));
        }
        out.add(String.join("|", values));
      }
    }
    return out;
  }

  @Test
  @Order(1)
  void badConfigurationExitsTwoBeforeTheQueryStarts() throws Exception {
    Launcher.Result noBundle = Launcher.run(work, env, "stream", "--model", work.resolve("nothing").toString(),
        "--input", work.toString(), "--checkpoint", "cp-bad", "--output", "bad-out");
    assertThat(noBundle.exitCode()).as(noBundle.toString()).isEqualTo(2);
    assertThat(noBundle.stderr()).contains("bottleneck stream: --model (key bottleneck.model): cannot load model bundle");
  }

  @Test
  @Order(2)
  void firstWaveAvailableNow() throws Exception {
    wave(1, 4, "bad1.jpg");
    Launcher.Result r = Launcher.run(work, env, args("available-now").toArray(String[]::new));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode report = JSON.readTree(r.lastLine());
    assertThat(report.get("files").asLong()).isEqualTo(5);
    assertThat(report.get("predicted").asLong()).isEqualTo(4);
    assertThat(report.get("rejected").asLong()).isEqualTo(1);
    assertThat(r.stderr()).containsPattern("stream s1: batch 0: 2 files, \\d accepted, \\d rejected, [0-9.]+ img/s, latency");
    assertThat(r.stdout() + r.stderr()).doesNotContain(PASSWORD);
    System.out.printf("stream wave 1: %.1f s%n", r.seconds());
  }

  @Test
  @Order(3)
  void secondWaveKilledMidBatchThenRestarted() throws Exception {
    wave(5, 8, "bad2.jpg");
    Path out = work.resolve("killed.out");
    Path err = work.resolve("killed.err");
    Process p = start(args("processing-time:1s"), out, err);
    // mid-batch: written to the folder, not yet to the catalog table and PostgreSQL, not committed
    awaitLine(p, err, l -> l.matches(".*stream s1: batch \\d+ written to folder.*") && !l.contains("batch 0 ")
        && !l.contains("batch 1 ") && !l.contains("batch 2 "), "a batch of wave 2 written to the folder");
    p.destroyForcibly(); // SIGKILL to the driver JVM
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).isEqualTo(137);

    Launcher.Result r = Launcher.run(work, env, args("available-now").toArray(String[]::new));
    assertThat(r.exitCode()).as(r.toString()).isZero();
    System.out.printf("stream wave 2 restart: %.1f s%n", r.seconds());
  }

  @Test
  @Order(4)
  void thirdWaveProcessingTimeStoppedBySigterm() throws Exception {
    wave(9, 12);
    Path out = work.resolve("term.out");
    Path err = work.resolve("term.err");
    Process p = start(args("processing-time:1s"), out, err);
    awaitLine(p, err, l -> l.matches(".*stream s1: batch \\d+: \\d+ files, .*"), "a batch of wave 3");
    p.destroy(); // SIGTERM
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    String stderr = Files.readString(err);
    assertThat(p.exitValue()).as(stderr).isZero();
    assertThat(stderr).contains("stream s1: SIGTERM received, stopping after the current batch");
    List<String> lines = Files.readAllLines(out).stream().filter(l -> !l.isBlank()).toList();
    assertThat(JSON.readTree(lines.get(lines.size() - 1)).get("stopped").asBoolean()).isTrue();
    // what the stopped run left is picked up by the next run
    Launcher.Result r = Launcher.run(work, env, args("available-now").toArray(String[]::new));
    assertThat(r.exitCode()).as(r.toString()).isZero();
  }

  @Test
  @Order(5)
  void everyTargetHoldsEachImageOnceEachRejectOnceWithPredictsProbabilities() throws Exception {
    SparkSession spark = LocalSpark.session();
    Dataset<Row> table = spark.read().parquet(work.resolve("spark-warehouse/preds").toString());
    Dataset<Row> files = spark.read().parquet(work.resolve("out").toString());
    for (Dataset<Row> rows : List.of(table, files)) {
      assertThat(rows.count()).isEqualTo(12);
      assertThat(rows.select("path").distinct().count()).isEqualTo(12);
    }
    assertThat(spark.read().parquet(work.resolve("spark-warehouse/preds_rejects").toString()).count()).isEqualTo(2);
    assertThat(spark.read().parquet(work.resolve("out/_rejects").toString()).count()).isEqualTo(2);
    assertThat(jdbc("SELECT count(*), count(DISTINCT path) FROM preds")).containsExactly("12|12");
    assertThat(jdbc("SELECT count(*), count(DISTINCT path) FROM preds_rejects")).containsExactly("2|2");

    Launcher.Result predict = Launcher.run(work, env, "predict", "--model", model, "--input", "input", "--output",
        "predicted", "--run-id", "p1", "--cache", work.resolve("cache").toString());
    assertThat(predict.exitCode()).as(predict.toString()).isZero();
    Map<String, Double> expected = new HashMap<>();
    spark.read().parquet(work.resolve("predicted").toString()).collectAsList()
        .forEach(r -> expected.put(r.getAs("path"), r.getAs("prob_cat")));
    assertThat(expected).hasSize(12);
    for (Row r : files.collectAsList()) {
      assertThat((Double) r.getAs("prob_cat")).isCloseTo(expected.get(r.<String>getAs("path")), within(1e-6));
    }
    for (String row : jdbc("SELECT path, prob_cat FROM preds")) {
      String[] parts = row.split("\\|");
      assertThat(Double.parseDouble(parts[1])).isCloseTo(expected.get(parts[0]), within(1e-6));
    }
  }
}
