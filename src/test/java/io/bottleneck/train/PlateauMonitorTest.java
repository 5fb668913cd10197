package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PlateauMonitorTest {

  private static List<PlateauMonitor.Decision> run(HeadConfig config, double... losses) {
    PlateauMonitor m = new PlateauMonitor(config);
    List<PlateauMonitor.Decision> out = new ArrayList<>();
    for (int e = 0; e < losses.length; e++) {
      out.add(m.onEpochEnd(e, losses[e]));
    }
    return out;
  }

  @Test
  void stopsAfterPatienceEpochsWithoutAnImprovementOfMinDelta() {
    HeadConfig c = HeadConfig.defaults().withEarlyStopping(2, 0.01, true).withReduceLr(100, 0.5, 0);
    // 0.795 and 0.79 are below 0.8 but not by 0.01: no improvement.
    List<PlateauMonitor.Decision> d = run(c, 1.0, 0.8, 0.795, 0.79, 0.5);
    assertThat(d).extracting(PlateauMonitor.Decision::improved)
        .containsExactly(true, true, false, false, true);
    assertThat(d).extracting(PlateauMonitor.Decision::stop)
        .containsExactly(false, false, false, true, false);
  }

  @Test
  void patienceOneStopsAtTheFirstNonImprovementAndNaNNeverImproves() {
    HeadConfig c = HeadConfig.defaults().withEarlyStopping(1, 0, true);
    PlateauMonitor m = new PlateauMonitor(c);
    assertThat(m.onEpochEnd(0, Double.NaN).stop()).isTrue();
    assertThat(m.bestEpoch()).isEqualTo(-1);
    assertThat(m.onEpochEnd(1, 0.3).improved()).isTrue();
    assertThat(m.bestEpoch()).isEqualTo(1);
    assertThat(m.onEpochEnd(2, 0.3).stop()).isTrue();
  }

  @Test
  void patienceZeroTurnsEarlyStoppingOffAsDocumented() {
    HeadConfig c = HeadConfig.defaults().withEarlyStopping(0, 0, true).withReduceLr(100, 0.5, 0);
    List<PlateauMonitor.Decision> d = run(c, 1.0, 1.1, 1.2, Double.NaN, 1.3, 0.9);
    assertThat(d).extracting(PlateauMonitor.Decision::stop).containsOnly(false);
    assertThat(d).extracting(PlateauMonitor.Decision::improved)
        .containsExactly(true, false, false, false, false, true);
  }

  @Test
  void reducesTheLearningRateOnAPlateauDownToTheMinimum() {
    HeadConfig c =
        HeadConfig.defaults().withLearningRate(0.1).withEarlyStopping(100, 0.0, true)
            .withReduceLr(2, 0.25, 0.01);
    List<PlateauMonitor.Decision> d = run(c, 1.0, 1.0, 1.0, 1.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9);
    assertThat(d).extracting(PlateauMonitor.Decision::learningRate)
        .containsExactly(0.1, 0.1, 0.025, 0.025, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01);
  }
}
