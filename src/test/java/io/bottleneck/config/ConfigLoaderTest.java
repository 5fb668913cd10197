package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.train.ClassWeights;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
  @TempDir Path tmp;

  private static JobConfig load(File file, List<String> sets, Map<String, Object> options) {
    return ConfigLoader.load(file, sets, options);
  }

  @Test
  void defaultsComeFromTheDocumentedConfFile() {
    JobConfig cfg = load(null, List.of(), Map.of());
    assertThat(cfg.input).isEqualTo("data/sample/train");
    assertThat(cfg.labelFrom).isEqualTo("filename");
    assertThat(cfg.base).isEqualTo("mobilenet_v2_1.0");
    assertThat(cfg.testSize).isEqualTo(0.2);
    assertThat(cfg.seed).isEqualTo(42L);
    assertThat(cfg.hiddenUnits).containsExactly(256);
    assertThat(cfg.spark).containsEntry("spark.master", "local[*]");
    assertThat(cfg.runId).matches("\\d{8}-\\d{6}");
  }

  @Test
  void fileThenSetThenOptionsLaterWins() throws IOException {
    File conf = tmp.resolve("job.conf").toFile();
    Files.writeString(conf.toPath(), "bottleneck { train.epochs = 7, split.seed = 1, train.dropout = 0.25 }\n");
    Map<String, Object> options = new HashMap<>();
    options.put("train.epochs", 9);
    options.put("base", null); // an option not given leaves the key alone
    JobConfig cfg = load(conf, List.of("split.seed=5", "bottleneck.train.hidden-units=[64, 32]"), options);
    assertThat(cfg.epochs).isEqualTo(9);
    assertThat(cfg.seed).isEqualTo(5L);
    assertThat(cfg.dropout).isEqualTo(0.25);
    assertThat(cfg.hiddenUnits).containsExactly(64, 32);
    assertThat(cfg.base).isEqualTo("mobilenet_v2_1.0");
  }

  @Test
  void trainingSeedFollowsTheSplitSeedUnlessSetItself() {
    JobConfig defaults = load(null, List.of(), Map.of());
    assertThat(defaults.seed).isEqualTo(42);
    assertThat(defaults.trainSeed).isEqualTo(42);
    JobConfig splitSeed = load(null, List.of(), Map.of("split.seed", 7));
    assertThat(splitSeed.trainSeed).isEqualTo(7);
    // several models on one split: the split stays, the training changes
    JobConfig own = load(null, List.of("train.seed=3"), Map.of("split.seed", 7));
    assertThat(own.seed).isEqualTo(7);
    assertThat(own.trainSeed).isEqualTo(3);
    assertThatThrownBy(() -> load(null, List.of("train.seed=often"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("train.seed");
  }

  @Test
  void unknownKeysAreRejectedWithTheirNames() throws IOException {
    assertThatThrownBy(() -> load(null, List.of("train.epoch=3"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Unknown configuration key bottleneck.train.epoch in --set train.epoch=3; see conf/bottleneck.conf for the keys");
    File conf = tmp.resolve("typo.conf").toFile();
    Files.writeString(conf.toPath(), "bottleneck.featurize.batchsize = 8\nbottleneck.inptu = x\n");
    assertThatThrownBy(() -> load(conf, List.of(), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Unknown configuration keys bottleneck.featurize.batchsize, bottleneck.inptu in " + conf + "; see conf/bottleneck.conf for the keys");
  }

  @Test
  void badValuesNameTheKeyAndTheRule() {
    assertThatThrownBy(() -> load(null, List.of(), Map.of("split.test-size", -5.0)))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.split.test-size to -5.0: the value must be a fraction in (0, 1) or a whole number >= 1");
    assertThatThrownBy(() -> load(null, List.of("base=resnet"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.base to resnet: the value must be one of mobilenet_v2_1.0, mobilenet_v1_0.25,"
            + " squeezenet_1.1, or several joined by '+' (an ensemble)");
    assertThatThrownBy(() -> load(null, List.of("base=mobilenet_v2_1.0", "featurize.engine=dl4j"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.featurize.engine to dl4j: the value must be an engine that runs base"
            + " mobilenet_v2_1.0: tensorflow, onnx");
    assertThatThrownBy(() -> load(null, List.of("train.epochs=many"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.train.epochs")
        .hasMessageContaining("NUMBER");
    assertThatThrownBy(() -> load(null, List.of("label-from=folders"), Map.of()))
        .hasMessage("Cannot set bottleneck.label-from to folders: the value must be one of dir, filename, manifest:URI, none");
    assertThatThrownBy(() -> load(null, List.of("no-equals-sign"), Map.of()))
        .hasMessage("--set expects key=value but was: no-equals-sign");
  }

  @Test
  void fineTuningMobileNetV2TakesItsLastBlockOnly() {
    JobConfig one = load(null, List.of("base=mobilenet_v2_1.0", "fine-tune.blocks=1"), Map.of());
    assertThat(one.base).isEqualTo("mobilenet_v2_1.0");
    assertThat(one.fineTuneBlocks).isEqualTo(1);
    assertThat(load(null, List.of("base=mobilenet_v2_1.0@160", "fine-tune.blocks=1"), Map.of()).fineTuneBlocks)
        .isEqualTo(1);
    assertThatThrownBy(() -> load(null, List.of("base=mobilenet_v2_1.0", "fine-tune.blocks=2"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.fine-tune.blocks to 2: the value must be 0 with base mobilenet_v2_1.0"
            + " (fine-tuning supports mobilenet_v2_1.0 alone, 1 block, mobilenet_v1_0.25 alone, 1 or 2 blocks,"
            + " or squeezenet_1.1 alone, 1 or 2 blocks)");
  }

  @Test
  void headOptionsAndSearchHaveDocumentedDefaults() {
    JobConfig cfg = load(null, List.of(), Map.of());
    assertThat(cfg.batchNorm).isFalse();
    assertThat(cfg.optimizer).isEqualTo("adam");
    assertThat(cfg.classWeights).isEqualTo(ClassWeights.NONE);
    assertThat(cfg.searchTrials).isZero();
    assertThat(cfg.searchStrategy).isEqualTo("random");
    assertThat(cfg.searchHiddenUnits).isEmpty();
    assertThat(cfg.searchDropout).isEmpty();
    assertThat(cfg.searchLearningRate).isEmpty();
    assertThat(cfg.searchL2).isEmpty();
    assertThat(cfg.searchBatchNorm).isEmpty();
    assertThat(cfg.searchOptimizer).isEmpty();
  }

  @Test
  void headOptionsAndSearchValuesParseFromSetsAndFiles() throws IOException {
    JobConfig cfg =
        load(
            null,
            List.of(
                "train.batch-norm=true",
                "train.optimizer=nesterov",
                "train.class-weights=1.0,3.0",
                "search.trials=6",
                "search.strategy=grid",
                "search.hidden-units=[[256], [512], [256, 128]]",
                "search.dropout=[0.3, 0.5]",
                "search.learning-rate=[0.001, 0.0003]",
                "search.l2=[0, 0.0001]",
                "search.batch-norm=[false, true]",
                "search.optimizer=[adam, \"sgd\"]"),
            Map.of());
    assertThat(cfg.batchNorm).isTrue();
    assertThat(cfg.optimizer).isEqualTo("nesterov");
    assertThat(cfg.classWeights).isEqualTo(ClassWeights.of(List.of(1.0, 3.0)));
    assertThat(cfg.searchTrials).isEqualTo(6);
    assertThat(cfg.searchStrategy).isEqualTo("grid");
    assertThat(cfg.searchHiddenUnits).containsExactly(List.of(256), List.of(512), List.of(256, 128));
    assertThat(cfg.searchDropout).containsExactly(0.3, 0.5);
    assertThat(cfg.searchLearningRate).containsExactly(0.001, 0.0003);
    assertThat(cfg.searchL2).containsExactly(0.0, 0.0001);
    assertThat(cfg.searchBatchNorm).containsExactly(false, true);
    assertThat(cfg.searchOptimizer).containsExactly("adam", "sgd");

    File conf = tmp.resolve("weights.conf").toFile();
    Files.writeString(
        conf.toPath(),
        "bottleneck.train { class-weights = [1, 2.5] }\nbottleneck.search.hidden-units = [[], [64]]\n");
    JobConfig fromFile = load(conf, List.of(), Map.of());
    assertThat(fromFile.classWeights).isEqualTo(ClassWeights.of(List.of(1.0, 2.5)));
    assertThat(fromFile.searchHiddenUnits).containsExactly(List.of(), List.of(64));
    assertThat(load(null, List.of("train.class-weights=balanced"), Map.of()).classWeights)
        .isEqualTo(ClassWeights.BALANCED);
  }

  @Test
  void badHeadOptionsAndSearchValuesNameTheKey() {
    assertThatThrownBy(() -> load(null, List.of("train.optimizer=adagrad"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.train.optimizer to adagrad: the value must be one of adam, nadam, amsgrad, sgd, nesterov, rmsprop");
    assertThatThrownBy(() -> load(null, List.of("train.class-weights=heavy"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.train.class-weights to heavy: the value must be none, balanced, or positive weights in class order (the sorted labels) such as \"1.0,3.0\"");
    assertThatThrownBy(() -> load(null, List.of("train.class-weights=1.0,-3"), Map.of()))
        .hasMessageStartingWith("Cannot set bottleneck.train.class-weights to 1.0,-3: the value must be none, balanced,");
    assertThatThrownBy(() -> load(null, List.of("train.batch-norm=maybe"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("bottleneck.train.batch-norm")
        .hasMessageContaining("BOOLEAN");
    assertThatThrownBy(() -> load(null, List.of("search.strategy=bayes"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.search.strategy to bayes: the value must be one of grid, random");
    assertThatThrownBy(() -> load(null, List.of("search.trials=-1"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.trials to -1: the value must be >= 0");
    assertThatThrownBy(() -> load(null, List.of("search.hidden-units=[256, 128]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.hidden-units to [256, 128]: the value must be a list of layer-size lists such as [[256], [512, 128]]");
    assertThatThrownBy(() -> load(null, List.of("search.hidden-units=[[256], [0]]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.hidden-units to [[256], [0]]: the value must be a list of layer-size lists such as [[256], [512, 128]]");
    assertThatThrownBy(() -> load(null, List.of("search.dropout=[0.5, 1.0]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.dropout to [0.5, 1.0]: the value must be a list of fractions in [0, 1)");
    assertThatThrownBy(() -> load(null, List.of("search.dropout=[0.5, 0.5]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.dropout to [0.5, 0.5]: the value must be a list of distinct values");
    assertThatThrownBy(() -> load(null, List.of("search.learning-rate=[0.001, 0.000001]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.learning-rate to [0.001, 1.0E-6]: the value must be a list of learning rates, each positive and >= train.reduce-lr.min-lr (1.0E-5)");
    assertThatThrownBy(() -> load(null, List.of("search.l2=[-1]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.l2 to [-1.0]: the value must be a list of numbers >= 0");
    assertThatThrownBy(() -> load(null, List.of("search.optimizer=[adam, lbfgs]"), Map.of()))
        .hasMessage("Cannot set bottleneck.search.optimizer to [adam, lbfgs]: the value must be a list of optimizers among adam, nadam, amsgrad, sgd, nesterov, rmsprop");
    assertThatThrownBy(() -> load(null, List.of("search.optimizers=[adam]"), Map.of()))
        .hasMessage("Unknown configuration key bottleneck.search.optimizers in --set search.optimizers=[adam]; see conf/bottleneck.conf for the keys");
  }

  @Test
  void sparkSettingsPassThroughAndUrisNeedNoQuotes() {
    JobConfig cfg =
        load(null, List.of("spark.executor.memory=6g", "bottleneck.spark.spark.sql.shuffle.partitions=3", "featurize.cache=hdfs://127.0.0.1:9000/cache"), Map.of());
    assertThat(cfg.spark)
        .containsEntry("spark.executor.memory", "6g")
        .containsEntry("spark.sql.shuffle.partitions", "3")
        .containsEntry("spark.master", "local[*]");
    assertThat(cfg.featureCache).isEqualTo("hdfs://127.0.0.1:9000/cache");
  }

  @Test
  void credentialsOnTheCommandLineAreRejectedWithoutEchoingThem() {
    String secret = "wJalrXUtnFEMI-K7MDENG";
    for (String set :
        List.of(
            "spark.hadoop.fs.s3a.secret.key=" + secret,
            "spark.hadoop.fs.s3a.access.key=" + secret,
            "spark.hadoop.fs.s3a.session.token=" + secret,
            "spark.hadoop.fs.s3a.bucket.images.secret.key=" + secret,
            "predict.jdbc.password=" + secret,
            "bottleneck.predict.jdbc.PASSWORD = " + secret,
            "spark.hadoop.fs.azure.sas.token:" + secret)) {
      String key = set.split("[=:\\s]", 2)[0];
      assertThatThrownBy(() -> load(null, List.of(set), Map.of()))
          .as(set)
          .isInstanceOf(ConfigError.class)
          .hasMessageStartingWith("--set " + key + ": credentials are not accepted on the command line")
          .hasMessageContaining("--conf file")
          .hasMessageContaining("AWS_SECRET_ACCESS_KEY")
          .hasMessageNotContaining(secret);
    }
  }

  @Test
  void credentialsFromTheConfFileAndItsEnvironmentSubstitutionsAreAccepted() throws IOException {
    File conf = tmp.resolve("s3.conf").toFile();
    Files.writeString(
        conf.toPath(),
        "bottleneck.spark {\n"
            + "  \"spark.hadoop.fs.s3a.access.key\" = from-file\n"
            + "  \"spark.hadoop.fs.s3a.secret.key\" = ${?BOTTLENECK_TEST_UNSET_VARIABLE}\n"
            + "}\n");
    // settings that only look similar stay settable: provider classes, endpoints
    JobConfig cfg =
        load(
            conf,
            List.of(
                "spark.hadoop.fs.s3a.aws.credentials.provider=org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
                "spark.hadoop.fs.s3a.endpoint=http://127.0.0.1:9000"),
            Map.of());
    assertThat(cfg.spark)
        .containsEntry("spark.hadoop.fs.s3a.access.key", "from-file")
        .doesNotContainKey("spark.hadoop.fs.s3a.secret.key") // unset variable: the key is left out
        .containsEntry("spark.hadoop.fs.s3a.endpoint", "http://127.0.0.1:9000");
  }

  @Test
  void theShippedLocalProfileLoads() {
    JobConfig cfg = load(new File("conf/local.conf"), List.of(), Map.of());
    assertThat(cfg.featurizeBatchSize).isEqualTo(16);
    assertThat(cfg.spark).containsEntry("spark.ui.enabled", "false");
  }

  @Test
  void missingConfFileIsAUsageError() {
    assertThatThrownBy(() -> load(new File(tmp.toFile(), "nope.conf"), List.of(), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("--conf: file not found: ");
  }

  @Test
  void runDateDefaultsToTodayInUtcAndMustBeARealDate() {
    java.time.LocalDate before = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    JobConfig cfg = load(null, List.of(), Map.of());
    java.time.LocalDate after = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
    assertThat(cfg.runDate).isBetween(before, after);
    assertThat(load(null, List.of(), Map.of("run-date", "2026-11-20")).runDate).hasToString("2026-11-20");
    for (String bad : List.of("2026-02-30", "20261120", "2026-1-5", "yesterday")) {
      assertThatThrownBy(() -> load(null, List.of(), Map.of("run-date", bad)))
          .isInstanceOf(ConfigError.class)
          .hasMessage("Cannot set bottleneck.run-date to " + bad
              + ": the value must be a date YYYY-MM-DD such as 2026-11-23 (empty: today in UTC)");
    }
  }

  @Test
  void jdbcTableDefaultsToTheCatalogTableNameAndTheUrlMustBeJdbc() throws IOException {
    assertThat(load(null, List.of(), Map.of()).jdbcTable).isEqualTo("predictions");
    assertThat(load(null, List.of(), Map.of("predict.table", "lake.scored")).jdbcTable).isEqualTo("scored");
    assertThat(load(null, List.of("predict.jdbc.table=analytics.preds"), Map.of()).jdbcTable).isEqualTo("analytics.preds");
    assertThatThrownBy(() -> load(null, List.of(), Map.of("predict.jdbc.url", "postgresql://h/db")))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("Cannot set bottleneck.predict.jdbc.url to postgresql://h/db: the value must be a JDBC URL");
    assertThatThrownBy(() -> load(null, List.of(), Map.of("metrics.table", "a.b.c")))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.metrics.table to a.b.c: the value must be a table name such as metrics or db.metrics");
    File conf = tmp.resolve("db.conf").toFile();
    Files.writeString(conf.toPath(), "bottleneck.predict.jdbc { user = app, password = \"s3cret\" }\n");
    JobConfig cfg = load(conf, List.of(), Map.of());
    assertThat(cfg.jdbcUser).isEqualTo("app");
    assertThat(cfg.jdbcPassword).isEqualTo("s3cret");
  }
}
