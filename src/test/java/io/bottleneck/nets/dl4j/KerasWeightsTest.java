package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.KerasWeights;
import org.junit.jupiter.api.Test;

class KerasWeightsTest {

  @Test
  void readsEveryTensorOfTheFile() {
    assertThat(KerasWeights.read(Bases.weights(MobileNetV1.ID)).totalValues())
        .isEqualTo(218_544L);
    assertThat(KerasWeights.read(Bases.weights(SqueezeNet.ID)).totalValues())
        .isEqualTo(722_496L);
  }

  @Test
  void aMissingLayerIsNamed() {
    KerasWeights weights = KerasWeights.read(Bases.weights(MobileNetV1.ID));
    assertThatThrownBy(() -> weights.copyConv(null, "fire2/squeeze1x1"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Keras layer 'fire2/squeeze1x1' not found in the weights file");
  }

  @Test
  void unusedTensorsAndUnassignedParametersFailVerification() {
    KerasWeights weights = KerasWeights.read(Bases.weights(MobileNetV1.ID));
    MobileNetV1Base random = MobileNetV1Base.randomlyInitialised(1);
    assertThatThrownBy(() -> weights.verify(random.graph(), MobileNetV1.PARAMS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("Weight tensors not used by the architecture: [conv1/conv1/");
  }
}
