package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
    assertThat(cfg.base).isEqualTo("mobilenet_v1_0.25");
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
    assertThat(cfg.base).isEqualTo("mobilenet_v1_0.25");
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
        .hasMessage("Cannot set bottleneck.base to resnet: the value must be one of mobilenet_v1_0.25, squeezenet_1.1,"
            + " or several joined by '+' (an ensemble)");
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
}
