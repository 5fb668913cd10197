package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.train.HeadConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules a stage would otherwise find out about after Spark started (training, search,
 * scratch CNN, ingest, bench) are checked when the configuration loads, naming the key.
 */
class ConfigRulesTest {
  private static JobConfig load(String... sets) {
    return ConfigLoader.load(null, List.of(sets), Map.of());
  }

  @Test
  void theLearningRateFloorMustNotExceedTheLearningRate() {
    assertThatThrownBy(() -> load("train.reduce-lr.min-lr=0.01"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.train.reduce-lr.min-lr to 0.01: the value must be >= 0 and at most"
            + " train.learning-rate (0.001)");
    assertThatThrownBy(() -> load("train.learning-rate=0.0001", "train.reduce-lr.min-lr=0.0002"))
        .hasMessageStartingWith("Cannot set bottleneck.train.reduce-lr.min-lr to 2.0E-4:");
    assertThatThrownBy(() -> load("train.reduce-lr.min-lr=-1"))
        .hasMessageStartingWith("Cannot set bottleneck.train.reduce-lr.min-lr to -1.0:");
    // equal is a floor the rate starts at: allowed, as HeadConfig allows it
    assertThat(load("train.reduce-lr.min-lr=0.001").head.minLearningRate()).isEqualTo(0.001);
  }

  @Test
  void theHeadConfigurationIsBuiltAndCheckedWhenTheConfigurationLoads() {
    JobConfig cfg = load("train.learning-rate=0.01", "train.reduce-lr.min-lr=0.001", "train.seed=9");
    assertThat(cfg.head)
        .isEqualTo(HeadConfig.defaults().withLearningRate(0.01).withSeed(9).withReduceLr(2, 0.5, 0.001));
  }

  @Test
  void numbersMustBeFinite() {
    for (String bad : List.of("NaN", "Infinity", "-Infinity")) {
      assertThatThrownBy(() -> load("train.l2=" + bad))
          .isInstanceOf(ConfigError.class)
          .hasMessage("Cannot set bottleneck.train.l2 to " + bad + ": the value must be a finite number");
    }
    assertThatThrownBy(() -> load("train.early-stopping.min-delta=NaN"))
        .hasMessage("Cannot set bottleneck.train.early-stopping.min-delta to NaN: the value must be a finite number");
    assertThatThrownBy(() -> load("train.learning-rate=Infinity"))
        .hasMessage("Cannot set bottleneck.train.learning-rate to Infinity: the value must be a finite number");
  }

  @Test
  void labelFromFollowsTheGrammarIngestReadsItWith() {
    for (String bad : List.of("manifest:", "Dir", "manifest", "folders")) {
      assertThatThrownBy(() -> load("label-from=\"" + bad + "\""))
          .as(bad)
          .isInstanceOf(ConfigError.class)
          .hasMessage("Cannot set bottleneck.label-from to " + bad + ": the value must be one of dir, filename, manifest:URI, none");
    }
    assertThat(load("label-from=\"manifest:hdfs:///labels.csv\"").labelFrom).isEqualTo("manifest:hdfs:///labels.csv");
    assertThat(load("label-from=dir").labelFrom).isEqualTo("dir");
  }

  @Test
  void scratchBlocksMustFitTheScratchInput() {
    // each block halves the side: 16 -> 8 -> 4 -> 2 -> 1 holds 4 blocks, not 5
    assertThat(load("base=pixels16", "scratch.filters=[8, 8, 8, 8]").scratchFilters).hasSize(4);
    assertThatThrownBy(() -> load("base=pixels16", "scratch.filters=[8, 8, 8, 8, 8]"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.scratch.filters to [8, 8, 8, 8, 8]: the value must be at most 4 entries"
            + " with base pixels16 (each block halves the 16-pixel side)");
    // without a scratch base the list is not used, so not held to a size
    assertThat(load("scratch.filters=[8, 8, 8, 8, 8]").scratchFilters).hasSize(5);
  }

  @Test
  void theBenchWorkDirectoryMustBeLocal() {
    assertThatThrownBy(() -> load("bench.work-dir=\"s3a://bucket/bench\""))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.bench.work-dir to s3a://bucket/bench: the value must be a local directory"
            + " (a path or file: URI)");
    assertThat(load("bench.work-dir=\"file:///tmp/bench\"").benchWorkDir).isEqualTo("file:///tmp/bench");
    assertThat(load("bench.work-dir=runs/b").benchWorkDir).isEqualTo("runs/b");
  }
}
