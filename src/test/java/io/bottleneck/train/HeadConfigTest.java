package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class HeadConfigTest {

  @Test
  void defaultsAreTheDocumentedValues() {
    HeadConfig c = HeadConfig.defaults();
    assertThat(c.hiddenUnits()).containsExactly(256);
    assertThat(c.dropout()).isEqualTo(0.5);
    assertThat(c.learningRate()).isEqualTo(1e-3);
    assertThat(c.l2()).isEqualTo(1e-4);
    assertThat(c.batchNorm()).isFalse();
    assertThat(c.optimizer()).isEqualTo("adam");
    assertThat(c.classWeights()).isEqualTo(ClassWeights.NONE);
    assertThat(c.epochs()).isEqualTo(30);
    assertThat(c.batchSizePerWorker()).isEqualTo(32);
    assertThat(c.averagingFrequency()).isEqualTo(10);
    assertThat(c.seed()).isEqualTo(42L);
    assertThat(c.earlyStoppingPatience()).isEqualTo(5);
    assertThat(c.earlyStoppingMinDelta()).isEqualTo(1e-3);
    assertThat(c.restoreBestWeights()).isTrue();
    assertThat(c.reduceLrPatience()).isEqualTo(2);
    assertThat(c.reduceLrFactor()).isEqualTo(0.5);
    assertThat(c.minLearningRate()).isEqualTo(1e-5);
  }

  @Test
  void hiddenUnitsAreCopiedAndUnmodifiable() {
    List<Integer> units = new ArrayList<>(List.of(64, 32));
    HeadConfig c = HeadConfig.defaults().withHiddenUnits(units);
    units.set(0, 1);
    assertThat(c.hiddenUnits()).containsExactly(64, 32);
    assertThatThrownBy(() -> c.hiddenUnits().add(8))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThat(HeadConfig.defaults().withHiddenUnits(List.of()).hiddenUnits()).isEmpty();
  }

  @Test
  void withersChangeOneFieldOnly() {
    HeadConfig c = HeadConfig.defaults().withEpochs(7).withReduceLr(3, 0.2, 1e-6);
    assertThat(c)
        .isEqualTo(
            new HeadConfig(
                List.of(256), 0.5, 1e-3, 1e-4, false, "adam", ClassWeights.NONE,
                7, 32, 10, 42L, 5, 1e-3, true, 3, 0.2, 1e-6));
    HeadConfig options =
        HeadConfig.defaults()
            .withBatchNorm(true)
            .withOptimizer("nesterov")
            .withClassWeights(ClassWeights.BALANCED);
    assertThat(options)
        .isEqualTo(
            new HeadConfig(
                List.of(256), 0.5, 1e-3, 1e-4, true, "nesterov", ClassWeights.BALANCED,
                30, 32, 10, 42L, 5, 1e-3, true, 2, 0.5, 1e-5));
    // The builder starts from the configuration it was taken from.
    assertThat(options.toBuilder().build()).isEqualTo(options);
    assertThat(options.toBuilder().optimizer("sgd").seed(3).build())
        .isEqualTo(options.withOptimizer("sgd").withSeed(3));
  }

  @Test
  void acceptsEveryOptimizerAndRejectsOthers() {
    assertThat(HeadConfig.OPTIMIZERS)
        .containsExactly("adam", "nadam", "amsgrad", "sgd", "nesterov", "rmsprop");
    for (String o : HeadConfig.OPTIMIZERS) {
      assertThat(HeadConfig.defaults().withOptimizer(o).optimizer()).isEqualTo(o);
    }
    assertThatThrownBy(() -> HeadConfig.defaults().withOptimizer("Adam"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "optimizer must be one of adam, nadam, amsgrad, sgd, nesterov, rmsprop but was Adam");
    assertThatThrownBy(() -> HeadConfig.defaults().withOptimizer(null))
        .hasMessageEndingWith("but was null");
    assertThatThrownBy(() -> HeadConfig.defaults().withClassWeights(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("classWeights");
  }

  @Test
  void rejectsBadValuesNamingTheField() {
    HeadConfig d = HeadConfig.defaults();
    assertThatThrownBy(() -> d.withDropout(1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dropout must be in [0, 1) but was 1.5");
    assertThatThrownBy(() -> d.withDropout(1.0))
        .hasMessage("dropout must be in [0, 1) but was 1.0");
    assertThatThrownBy(() -> d.withDropout(Double.NaN))
        .hasMessage("dropout must be in [0, 1) but was NaN");
    assertThatThrownBy(() -> d.withLearningRate(0))
        .hasMessage("learningRate must be > 0 but was 0.0");
    assertThatThrownBy(() -> d.withL2(-1e-4)).hasMessage("l2 must be >= 0 but was -1.0E-4");
    assertThatThrownBy(() -> d.withEpochs(0)).hasMessage("epochs must be >= 1 but was 0");
    assertThatThrownBy(() -> d.withBatchSizePerWorker(0))
        .hasMessage("batchSizePerWorker must be >= 1 but was 0");
    assertThatThrownBy(() -> d.withAveragingFrequency(-2))
        .hasMessage("averagingFrequency must be >= 1 but was -2");
    assertThatThrownBy(() -> d.withEarlyStopping(-1, 1e-3, true))
        .hasMessage("earlyStoppingPatience must be >= 0 but was -1");
    assertThatThrownBy(() -> d.withEarlyStopping(5, -0.1, true))
        .hasMessage("earlyStoppingMinDelta must be >= 0 but was -0.1");
    assertThatThrownBy(() -> d.withReduceLr(-1, 0.5, 0))
        .hasMessage("reduceLrPatience must be >= 0 but was -1");
    assertThatThrownBy(() -> d.withReduceLr(2, 1.0, 0))
        .hasMessage("reduceLrFactor must be in (0, 1) but was 1.0");
    assertThatThrownBy(() -> d.withReduceLr(2, 0.5, 0.01))
        .hasMessage("minLearningRate must be in [0, learningRate] = [0, 0.001] but was 0.01");
    assertThatThrownBy(() -> d.withHiddenUnits(List.of(16, 0)))
        .hasMessage("hiddenUnits must all be >= 1 but was [16, 0]");
    assertThatThrownBy(() -> d.withHiddenUnits(null)).hasMessage("hiddenUnits must not be null");
  }
}
