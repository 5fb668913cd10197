package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class SessionsTest {
  private static SparkConf conf(String... sets) {
    JobConfig cfg = ConfigLoader.load(null, List.of(sets), Map.of());
    return Sessions.sparkConf(cfg, "test");
  }

  @Test
  void localModeTurnsDelaySchedulingOffUnlessTheUserSetsIt() {
    assertThat(conf().get("spark.locality.wait")).isEqualTo("0s");
    assertThat(conf("spark.master=local[2]").get("spark.locality.wait")).isEqualTo("0s");
    assertThat(conf("spark.locality.wait=1s").get("spark.locality.wait")).isEqualTo("1s");
  }

  @Test
  void clusterMastersKeepSparksLocalityWait() {
    assertThat(conf("spark.master=\"spark://127.0.0.1:7077\"").contains("spark.locality.wait")).isFalse();
    assertThat(conf("spark.master=local-cluster[2,1,1024]").contains("spark.locality.wait")).isFalse();
  }
}
