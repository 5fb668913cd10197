package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.io.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClassWeightsTest {

  @Test
  void parsesTheThreeForms() {
    assertThat(ClassWeights.parse("none")).isEqualTo(ClassWeights.NONE);
    assertThat(ClassWeights.parse(" Balanced ")).isEqualTo(ClassWeights.BALANCED);
    assertThat(ClassWeights.parse("1.0, 3")).isEqualTo(ClassWeights.of(List.of(1.0, 3.0)));
    assertThat(ClassWeights.parse("1.0,3.0").toString()).isEqualTo("1.0,3.0");
    assertThat(ClassWeights.BALANCED.toString()).isEqualTo("balanced");
    assertThat(ClassWeights.NONE.toString()).isEqualTo("none");
  }

  @Test
  void rejectsWhatIsNotAWeightList() {
    assertThatThrownBy(() -> ClassWeights.parse("heavy"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Class weights must be none, balanced or comma-separated numbers but were 'heavy'");
    assertThatThrownBy(() -> ClassWeights.parse("1.0,,2"))
        .hasMessage("Class weights must be none, balanced or comma-separated numbers but were '1.0,,2'");
    assertThatThrownBy(() -> ClassWeights.parse("1.0,0"))
        .hasMessage("Class weights must all be positive and finite but were [1.0, 0.0]");
    assertThatThrownBy(() -> ClassWeights.parse("1,-2"))
        .hasMessage("Class weights must all be positive and finite but were [1.0, -2.0]");
    assertThatThrownBy(() -> ClassWeights.parse("NaN"))
        .hasMessage("Class weights must all be positive and finite but were [NaN]");
    assertThatThrownBy(() -> ClassWeights.parse(""))
        .hasMessage("Class weights must be none, balanced or comma-separated numbers but were ''");
  }

  @Test
  void balancedIsScikitLearnsFormula() {
    // n_samples / (n_classes * count): 400 / (2 * 360) and 400 / (2 * 40).
    assertThat(ClassWeights.BALANCED.resolve(new long[] {360, 40}))
        .containsExactly(400.0 / 720, 5.0);
    // Three classes, 10 rows: 10 / (3 * 5), 10 / (3 * 3), 10 / (3 * 2).
    assertThat(ClassWeights.BALANCED.resolve(new long[] {5, 3, 2}))
        .containsExactly(10.0 / 15, 10.0 / 9, 10.0 / 6);
    // A class without rows weighs 1: its term is zero on every training row anyway.
    assertThat(ClassWeights.BALANCED.resolve(new long[] {6, 0, 2})).containsExactly(8.0 / 18, 1.0, 8.0 / 6);
    assertThat(ClassWeights.NONE.resolve(new long[] {360, 40})).isNull();
    assertThat(ClassWeights.parse("1,3").resolve(new long[] {360, 40})).containsExactly(1.0, 3.0);
  }

  @Test
  void explicitWeightsMustMatchTheClasses() {
    assertThatThrownBy(() -> ClassWeights.parse("1,3").resolve(new long[] {1, 1, 1}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Class weights 1.0,3.0 give 2 weights but there are 3 classes; give one weight per"
                + " class, in class order.");
  }

  @Test
  void aHeadConfigWritesItsClassWeightsAsTheConfigurationString() {
    Map<String, Object> json =
        Json.parseObject(
            Json.oneLine(HeadConfig.defaults().withClassWeights(ClassWeights.parse("1,2.5"))), "t");
    assertThat(json).containsEntry("classWeights", "1.0,2.5").containsEntry("optimizer", "adam")
        .containsEntry("batchNorm", false);
    assertThat(Json.parseObject(Json.oneLine(HeadConfig.defaults()), "t"))
        .containsEntry("classWeights", "none");
  }
}
