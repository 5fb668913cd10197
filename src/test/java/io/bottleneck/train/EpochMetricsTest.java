package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The metrics job runs one wave of tasks: the cores shared by the training and validation rows. */
class EpochMetricsTest {
  @Test
  void tasksFillTheCoresInProportionToRowsWithOneEachAtLeast() {
    assertThat(EpochMetrics.tasks(2, 64, 16)).containsExactly(1, 1);
    assertThat(EpochMetrics.tasks(2, 1601, 401)).containsExactly(1, 1);
    assertThat(EpochMetrics.tasks(16, 800_000, 200_000)).containsExactly(13, 3);
    assertThat(EpochMetrics.tasks(16, 1_000_000, 10)).containsExactly(15, 1);
    assertThat(EpochMetrics.tasks(16, 10, 1_000_000)).containsExactly(1, 15);
    assertThat(EpochMetrics.tasks(1, 64, 16)).containsExactly(1, 1);
    assertThat(EpochMetrics.tasks(4, 64, 0)).containsExactly(4, 0);
  }
}
