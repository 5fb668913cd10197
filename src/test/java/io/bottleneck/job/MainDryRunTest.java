package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code --dry-run}: configuration loaded and validated as for a real run, printed, no Spark. */
class MainDryRunTest {
  private static InProcessMain.Outcome run(String... args) {
    return InProcessMain.run(args);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> section(Map<String, Object> config, String name) {
    return (Map<String, Object>) config.get(name);
  }

  @Test
  void printsTheEffectiveConfigurationAsOneJsonLineWithoutStartingSpark() {
    // other tests of this JVM may hold the shared local session: nothing may change about it
    scala.Option<org.apache.spark.sql.SparkSession> before = org.apache.spark.sql.SparkSession.getDefaultSession();
    InProcessMain.Outcome o =
        run("pipeline", "--dry-run", "--input", "/data/in", "--epochs", "3", "--run-id", "20261123",
            "--set", "train.dropout=0.3", "--set", "spark.executor.memory=2g");

    assertThat(o.exitCode()).as(o.stderr()).isZero();
    Map<String, Object> report = o.lastLineJson();
    assertThat(report).containsEntry("command", "pipeline").containsEntry("dry_run", true);
    Map<String, Object> config = section(report, "config");
    assertThat(config).containsEntry("input", "/data/in").containsEntry("run-id", "20261123");
    assertThat(section(config, "train")).containsEntry("epochs", 3).containsEntry("dropout", 0.3);
    // untouched defaults are part of the effective configuration too
    assertThat(section(config, "split")).containsEntry("seed", 42);
    assertThat(section(config, "spark")).containsEntry("spark.executor.memory", "2g");
    // no SparkSession was built or replaced: a dry run starts no Spark
    scala.Option<org.apache.spark.sql.SparkSession> after = org.apache.spark.sql.SparkSession.getDefaultSession();
    assertThat(after.isDefined()).isEqualTo(before.isDefined());
    if (after.isDefined()) {
      assertThat(after.get()).isSameAs(before.get());
    }
  }

  @Test
  void credentialValuesAreMaskedEverywhereInTheOutput(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    // credentials come from a --conf file (the command line refuses them, see ConfigLoaderTest)
    java.nio.file.Path conf = dir.resolve("secrets.conf");
    java.nio.file.Files.writeString(conf, String.join("\n",
        "bottleneck.spark {",
        "  \"spark.hadoop.fs.s3a.access.key\" = AKIAEXAMPLE",
        "  \"spark.hadoop.fs.s3a.secret.key\" = s3cr3t-value",
        "  \"spark.hadoop.javax.jdo.option.ConnectionPassword\" = hunter2",
        "  \"spark.hadoop.fs.azure.sas.token\" = tok-123",
        "}"));
    InProcessMain.Outcome o =
        run("predict", "--dry-run", "--model", "runs/x/model", "--input", "data/sample/predict", "--table", "db.p",
            "--conf", conf.toString());

    assertThat(o.exitCode()).as(o.stderr()).isZero();
    assertThat(o.stdout()).doesNotContain("AKIAEXAMPLE", "s3cr3t-value", "hunter2", "tok-123");
    Map<String, Object> spark = section(section(o.lastLineJson(), "config"), "spark");
    assertThat(spark)
        .containsEntry("spark.hadoop.fs.s3a.access.key", "***")
        .containsEntry("spark.hadoop.fs.s3a.secret.key", "***")
        .containsEntry("spark.hadoop.javax.jdo.option.ConnectionPassword", "***")
        .containsEntry("spark.hadoop.fs.azure.sas.token", "***");
  }

  @Test
  void everyJobCommandAcceptsDryRun() {
    for (List<String> args :
        List.of(
            List.of("pipeline"),
            List.of("ingest", "--input", "data/sample/train", "--output", "out/ingest"),
            List.of("split", "--input", "out/ingest", "--output", "out/split"),
            List.of("featurize", "--input", "out/split", "--output", "out/features"),
            List.of("train", "--input", "out/features", "--output", "out/model"),
            List.of("evaluate", "--model", "out/model", "--input", "out/features"),
            List.of("predict", "--model", "out/model", "--input", "data/sample/predict", "--output", "out/p"),
            List.of("export", "--model", "out/model", "--output", "out/model.onnx"),
            List.of("bench"))) {
      String[] withDryRun = java.util.stream.Stream.concat(args.stream(), java.util.stream.Stream.of("--dry-run")).toArray(String[]::new);
      InProcessMain.Outcome o = run(withDryRun);
      assertThat(o.exitCode()).as(args + ": " + o.stderr()).isZero();
      assertThat(o.lastLineJson()).as(args.toString()).containsEntry("command", args.get(0));
    }
  }

  @Test
  void configurationErrorsStillExitTwo() {
    InProcessMain.Outcome unknownKey = run("pipeline", "--dry-run", "--set", "train.epochz=3");
    assertThat(unknownKey.exitCode()).isEqualTo(Main.USAGE);
    assertThat(unknownKey.stderr()).contains("Unknown configuration key bottleneck.train.epochz");
    assertThat(unknownKey.stdout()).isEmpty();

    InProcessMain.Outcome badRunId = run("pipeline", "--dry-run", "--run-id", "../escape");
    assertThat(badRunId.exitCode()).isEqualTo(Main.USAGE);

    InProcessMain.Outcome missingModel = run("predict", "--dry-run", "--input", "data/sample/predict", "--output", "out/p");
    assertThat(missingModel.exitCode()).as(missingModel.stderr()).isEqualTo(Main.USAGE);

    // several bundles are separated by single commas; an empty entry is a usage error, named
    for (String command : List.of("predict", "evaluate")) {
      InProcessMain.Outcome emptyEntry =
          run(command, "--dry-run", "--model", "runs/a/model,,runs/b/model", "--input", "data/sample/train", "--output", "out/p");
      assertThat(emptyEntry.exitCode()).as(emptyEntry.stderr()).isEqualTo(Main.USAGE);
      assertThat(emptyEntry.stderr())
          .contains("--model (key bottleneck.model): model \"runs/a/model,,runs/b/model\" has an empty entry");
    }
    InProcessMain.Outcome twoModels =
        run("predict", "--dry-run", "--model", "runs/a/model, runs/b/model", "--input", "data/sample/predict", "--output", "out/p");
    assertThat(twoModels.exitCode()).as(twoModels.stderr()).isZero();

    InProcessMain.Outcome unknownOption = run("pipeline", "--dry-run", "--no-such-option");
    assertThat(unknownOption.exitCode()).isEqualTo(Main.USAGE);
  }

  @Test
  void trainingRulesAreCheckedBeforeSparkNotAfterFeaturizing() {
    // a learning-rate floor above the learning rate used to pass --dry-run and fail in training
    InProcessMain.Outcome floor = run("pipeline", "--dry-run", "--set", "train.reduce-lr.min-lr=0.01");
    assertThat(floor.exitCode()).as(floor.stderr()).isEqualTo(Main.USAGE);
    assertThat(floor.stderr()).contains(
        "Cannot set bottleneck.train.reduce-lr.min-lr to 0.01: the value must be >= 0 and at most train.learning-rate (0.001)");
    assertThat(floor.stdout()).isEmpty();
  }
}
