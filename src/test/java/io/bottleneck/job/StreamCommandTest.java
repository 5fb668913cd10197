package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.BatchPredictions;
import io.bottleneck.predict.Scoring;
import io.bottleneck.predict.stream.StreamingPredictions;
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
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream command's query in this JVM (one shared local session): images arriving in three
 * waves, one available-now run per wave, into a folder, a catalog table and PostgreSQL at once;
 * a batch whose commit was lost (as when the driver dies between its writes and Spark's commit)
 * is run again and replaces itself. Each image ends up once, each reject once, with predict's
 * probabilities.
 */
@ExtendWith(LocalSpark.class)
class StreamCommandTest {
  private static final String PASSWORD = "pw-" + UUID.randomUUID();
  @TempDir static Path tmp;
  private static PostgresServer postgres;
  private static String model;
  /** Unique per run: the session's warehouse folder outlives the JVM. */
  private static final String TABLE = "stream_" + UUID.randomUUID().toString().substring(0, 8);
  private final SparkSession spark = LocalSpark.session();

  @BeforeAll
  static void trainAndStartPostgres() throws Exception {
    postgres = PostgresServer.start(Path.of("target", "postgres-stream-" + UUID.randomUUID()), PASSWORD);
    SparkSession spark = LocalSpark.session();
    JobConfig cfg = config();
    Path images = Samples.catsAndDogs(tmp.resolve("train"), 4);
    String cache = FeatureStage.featureCache(spark, cfg);
    try (TrainingFeatures features =
        FeatureStage.featurizeForTraining(spark, ImageIngest.ingest(spark, images.toString(), "filename", true).images(), cfg, cache)) {
      Trained trained =
          TrainStage.trainAndEvaluate(spark, features.rows(), cfg.base, features.original().preprocessingId(), 256, cfg,
              cache, Map.of());
      model = tmp.resolve("model").toUri().toString();
      trained.bundle().save(model, spark.sparkContext().hadoopConfiguration());
    }
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    for (String t : List.of(TABLE, TABLE + "_rejects", TABLE + "_other")) {
      LocalSpark.session().sql("DROP TABLE IF EXISTS " + t);
    }
    if (postgres != null) {
      postgres.close();
    }
  }

  private static JobConfig config(String... sets) {
    return config(null, sets);
  }

  private static JobConfig config(java.io.File conf, String... sets) {
    List<String> all = new ArrayList<>(List.of(
        "bottleneck.featurize.cache=" + tmp.resolve("cache").toUri(),
        "bottleneck.base=mobilenet_v1_0.25",
        "bottleneck.train.epochs=2"));
    all.addAll(List.of(sets));
    return ConfigLoader.load(conf, all, new HashMap<>());
  }

  private JobConfig streamConfig(String name, String... sets) {
    return streamConfig(null, name, sets);
  }

  private JobConfig streamConfig(java.io.File conf, String name, String... sets) {
    List<String> all = new ArrayList<>(List.of(
        "bottleneck.model=" + model,
        "bottleneck.input=" + tmp.resolve(name + "/input").toUri(),
        "bottleneck.stream.checkpoint=" + tmp.resolve(name + "/checkpoint").toUri(),
        "bottleneck.stream.max-files-per-trigger=3"));
    all.addAll(List.of(sets));
    return config(conf, all.toArray(String[]::new));
  }

  /** Copies predict images first..last (data/sample/predict/N.jpg) and the given junk files into input. */
  private static void wave(Path input, int first, int last, String... junk) throws Exception {
    Files.createDirectories(input);
    for (int i = first; i <= last; i++) {
      Path target = input.resolve("w/" + i + ".jpg");
      Files.createDirectories(target.getParent());
      // written under a hidden name, then renamed: the source must never see half a file
      Path tmpName = input.resolve("w/." + i + ".jpg.tmp");
      Files.copy(Launcher.sample("predict").toPath().resolve(i + ".jpg"), tmpName);
      Files.move(tmpName, target);
    }
    for (String name : junk) {
      Files.writeString(input.resolve(name), "not an image " + name, StandardCharsets.UTF_8);
    }
  }

  private List<String> jdbc(String sql) throws Exception {
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
  void threeWavesAndAReplayedBatchLeaveEachImageAndEachRejectOnce() throws Exception {
    Path input = tmp.resolve("waves/input");
    String output = tmp.resolve("waves/output").toUri().toString();
    Path conf = tmp.resolve("jdbc.conf");
    Files.writeString(conf, "bottleneck.predict.jdbc.password = \"" + PASSWORD + "\"\n");
    JobConfig cfg = streamConfig(conf.toFile(), "waves", "bottleneck.output=" + output, "bottleneck.predict.table=" + TABLE,
        "bottleneck.predict.jdbc.url=" + postgres.url(), "bottleneck.predict.jdbc.user=" + PostgresServer.USER,
        "bottleneck.run-id=s1");

    wave(input, 1, 4, "bad1.jpg", ".DS_Store", "_SUCCESS");
    StreamingPredictions.Outcome first = StreamCommand.prepare(spark, cfg).run();
    assertThat(first.files()).isEqualTo(5);
    assertThat(first.accepted()).isEqualTo(4);
    assertThat(first.rejected()).isEqualTo(1);
    assertThat(first.batches()).isEqualTo(2); // 3 files per trigger at most

    wave(input, 5, 8);
    StreamingPredictions.Outcome second = StreamCommand.prepare(spark, cfg).run();
    assertThat(second.files()).as("only the new files").isEqualTo(4);

    // the last batch's commit lost, as if the driver died after the writes: the restart runs it again
    Path commits = tmp.resolve("waves/checkpoint/commits");
    long lastBatch;
    try (Stream<Path> files = Files.list(commits)) {
      lastBatch = files.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).mapToLong(Long::parseLong)
          .max().orElseThrow();
    }
    Files.delete(commits.resolve(Long.toString(lastBatch)));
    Files.deleteIfExists(commits.resolve("." + lastBatch + ".crc"));
    wave(input, 9, 12, "bad2.jpg");
    Files.write(input.resolve("empty.jpg"), new byte[0]); // no split to read: from the source's log
    StreamingPredictions.Outcome third = StreamCommand.prepare(spark, cfg).run();
    assertThat(third.files()).as("the replayed batch's files and the new ones").isGreaterThan(5);

    // a folder, a catalog table and a JDBC table, each with every image once
    Dataset<Row> files = spark.read().parquet(output);
    Dataset<Row> table = spark.table(TABLE);
    assertThat(table.columns()).containsExactly("path", "predicted_label", "prob_cat", "prob_dog", "model_id",
        "predicted_at", "content_hash", "ingested_at", "run_id", "batch_id");
    for (Dataset<Row> rows : List.of(files, table)) {
      assertThat(rows.count()).isEqualTo(12);
      assertThat(rows.select("path").distinct().count()).isEqualTo(12);
    }
    assertThat(jdbc("SELECT count(*), count(DISTINCT path), count(DISTINCT batch_id) FROM " + TABLE))
        .containsExactly("12|12|" + table.select("batch_id").distinct().count());
    assertThat(spark.table(TABLE + "_rejects").select("path", "reason").orderBy("path").collectAsList().toString())
        .contains("bad1.jpg", "bad2.jpg", "empty.jpg,empty file").doesNotContain("DS_Store", "_SUCCESS");
    assertThat(spark.table(TABLE + "_rejects").count()).isEqualTo(3);
    assertThat(spark.read().parquet(output + "/_rejects").count()).isEqualTo(3);
    assertThat(jdbc("SELECT count(*), count(DISTINCT path) FROM " + TABLE + "_rejects")).containsExactly("3|3");

    // the same probabilities as predict gives (the head computes in float, in mini-batches formed otherwise) for the same images
    JobConfig predict = config("bottleneck.run-id=p1");
    List<ModelBundle> bundles = Scoring.loadBundles(spark, model);
    String predicted = tmp.resolve("waves/predict").toUri().toString();
    BatchPredictions.run(spark, predict, bundles, input.toString(), predicted, "", FeatureStage.featureCache(spark, predict));
    Map<String, Double> expected = new HashMap<>();
    spark.read().parquet(predicted).collectAsList().forEach(r -> expected.put(r.getAs("path"), r.getAs("prob_cat")));
    assertThat(expected).hasSize(12);
    for (Row r : table.collectAsList()) {
      assertThat((Double) r.getAs("prob_cat")).as(r.<String>getAs("path")).isCloseTo(expected.get(r.<String>getAs("path")), within(1e-6)); // float heads, other mini-batches
    }
  }

  @Test
  void badConfigurationIsAConfigErrorNamingTheOption() throws Exception {
    InProcessMain.Outcome noCheckpoint =
        InProcessMain.run("stream", "--model", "m", "--input", "in", "--output", "out", "--dry-run");
    assertThat(noCheckpoint.exitCode()).isEqualTo(Main.USAGE);
    assertThat(noCheckpoint.stderr()).contains("Missing --checkpoint (or configuration key bottleneck.stream.checkpoint)");
    InProcessMain.Outcome badTrigger =
        InProcessMain.run("stream", "--model", "m", "--input", "in", "--output", "out", "--checkpoint", "c",
            "--trigger", "every-now-and-then", "--dry-run");
    assertThat(badTrigger.exitCode()).isEqualTo(Main.USAGE);
    assertThat(badTrigger.stderr()).contains("bottleneck.stream.trigger");

    Files.createDirectories(tmp.resolve("bad/input"));
    JobConfig noBundle = streamConfig("bad", "bottleneck.model=" + tmp.resolve("no-such-model").toUri(),
        "bottleneck.output=" + tmp.resolve("bad/out").toUri());
    assertThatThrownBy(() -> StreamCommand.prepare(spark, noBundle))
        .isInstanceOf(ConfigError.class).hasMessageStartingWith("--model (key bottleneck.model): cannot load");

    spark.sql("CREATE TABLE " + TABLE + "_other (path STRING, run_date DATE, run_id STRING) USING parquet PARTITIONED BY (run_date, run_id)");
    JobConfig otherTable = streamConfig("bad", "bottleneck.predict.table=" + TABLE + "_other");
    assertThatThrownBy(() -> StreamCommand.prepare(spark, otherTable))
        .isInstanceOf(ConfigError.class).hasMessageStartingWith("--table: Table " + TABLE + "_other is partitioned by");

    // a checkpoint keeps its run id
    wave(tmp.resolve("bad/input"), 1, 1);
    StreamCommand.prepare(spark, streamConfig("bad", "bottleneck.output=" + tmp.resolve("bad/out").toUri(),
        "bottleneck.run-id=a")).run();
    assertThatThrownBy(() -> StreamCommand.prepare(spark, streamConfig("bad",
        "bottleneck.output=" + tmp.resolve("bad/out").toUri(), "bottleneck.run-id=b")))
        .isInstanceOf(ConfigError.class).hasMessageStartingWith("--run-id b does not match run id a of --checkpoint");
    // and a new checkpoint cannot take over a run id that a target holds
    assertThatThrownBy(() -> StreamCommand.prepare(spark, streamConfig("bad",
        "bottleneck.output=" + tmp.resolve("bad/out").toUri(), "bottleneck.run-id=a",
        "bottleneck.stream.checkpoint=" + tmp.resolve("bad/checkpoint2").toUri())))
        .isInstanceOf(ConfigError.class).hasMessageContaining("already holds rows of run id a");
  }

  @Test
  void predictSkipExistingScoresOnlyImagesTheTargetLacksForTheModel() throws Exception {
    Path input = tmp.resolve("skip/input");
    String table = TABLE + "_skip";
    wave(input, 1, 4);
    JobConfig first = config("bottleneck.run-id=k1", "bottleneck.predict.skip-existing=true");
    List<ModelBundle> bundles = Scoring.loadBundles(spark, model);
    String cache = FeatureStage.featureCache(spark, first);
    BatchPredictions.Outcome one = BatchPredictions.run(spark, first, bundles, input.toString(), "", table, cache);
    assertThat(one.predicted()).isEqualTo(4);
    assertThat(one.skipped()).isZero();

    wave(input, 5, 7);
    JobConfig second = config("bottleneck.run-id=k2", "bottleneck.predict.skip-existing=true");
    BatchPredictions.Outcome two = BatchPredictions.run(spark, second, bundles, input.toString(), "", table, cache);
    assertThat(two.predicted()).isEqualTo(3);
    assertThat(two.skipped()).isEqualTo(4);
    // a re-run of k2 replaces k2's rows: it predicts its own images again, not nothing
    BatchPredictions.Outcome again = BatchPredictions.run(spark, second, bundles, input.toString(), "", table, cache);
    assertThat(again.predicted()).isEqualTo(3);
    // nothing new: nothing scored, nothing written
    BatchPredictions.Outcome none =
        BatchPredictions.run(spark, config("bottleneck.run-id=k3", "bottleneck.predict.skip-existing=true"), bundles,
            input.toString(), "", table, cache);
    assertThat(none.predicted()).isZero();
    assertThat(none.skipped()).isEqualTo(7);
    assertThat(spark.table(table).count()).isEqualTo(7);
    assertThat(spark.table(table).select("content_hash").distinct().count()).isEqualTo(7);
    spark.sql("DROP TABLE " + table);

    InProcessMain.Outcome twoTargets =
        InProcessMain.run("predict", "--model", "m", "--input", "in", "--output", "out", "--table", "t",
            "--skip-existing", "--dry-run");
    assertThat(twoTargets.exitCode()).isEqualTo(Main.USAGE);
    assertThat(twoTargets.stderr()).contains("--skip-existing (key bottleneck.predict.skip-existing) looks up one target");
  }
}
