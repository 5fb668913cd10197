package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.dl4j.TunableTail;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each registered {@link Architecture} holds the facts the networks are built from: what every
 * engine builds from its weights file agrees with the descriptor, so a new architecture whose
 * descriptor and network disagree fails here, on every engine it names.
 */
class ArchitecturesTest {

  static List<Architecture> architectures() {
    return Bases.architectures();
  }

  @Test
  void registryIsTheSourceOfNamesSizesAndEngines() {
    assertThat(Bases.architectures()).extracting(Architecture::id).containsExactlyElementsOf(Bases.names());
    for (Architecture a : Bases.architectures()) {
      assertThat(Bases.inputSize(a.id())).isEqualTo(a.defaultInputSize());
      assertThat(Bases.engines()).containsAll(a.engines().keySet());
      assertThat(Bases.engines(a.id())).containsExactlyInAnyOrderElementsOf(a.engines().keySet());
      assertThat(Bases.architecture(a.id() + "@160@tail1")).isSameAs(a);
    }
    assertThatThrownBy(() -> Bases.architecture("vgg16@160"))
        .hasMessage("Unknown base 'vgg16@160'; supported: mobilenet_v2_1.0, mobilenet_v1_0.25, squeezenet_1.1");
  }

  @ParameterizedTest
  @MethodSource("architectures")
  void weightsFileHoldsTheDeclaredParameterCount(Architecture a) {
    assertThat(KerasWeights.read(Bases.weights(a.id())).totalValues()).isEqualTo(a.weightParams());
  }

  @ParameterizedTest
  @MethodSource("architectures")
  void everyEngineBuildsWhatTheDescriptorSays(Architecture a) {
    byte[] weights = Bases.weights(a.id());
    int odd = 161;
    for (String engine : a.engines().keySet()) {
      try (ImageBase base = Bases.fromWeights(a.id(), weights, engine)) {
        assertThat(base.id()).as(engine).isEqualTo(a.id());
        assertThat(base.inputSize()).as(engine).isEqualTo(a.defaultInputSize());
        assertThat(base.featureSize()).as(engine).isEqualTo(a.features());
        assertThat(base.preprocessingId()).as(engine).isEqualTo(a.preprocessing(a.defaultInputSize()).id());
      }
      if (a.maxTailBlocks() > 0) {
        String tailId = a.idWithTail(odd, a.maxTailBlocks());
        try (ImageBase frozen = Bases.fromWeights(tailId, weights, engine)) {
          int[] shape = a.tailInputShape(odd, a.maxTailBlocks());
          assertThat(frozen.id()).as(engine).isEqualTo(tailId);
          assertThat(frozen.featureSize()).as(engine).isEqualTo(shape[0] * shape[1] * shape[2]);
          assertThat(frozen.preprocessingId()).as(engine).isEqualTo(a.preprocessing(odd).id());
        }
      }
    }
  }

  @ParameterizedTest
  @MethodSource("architectures")
  void tailsFollowTheDescriptor(Architecture a) {
    if (a.maxTailBlocks() == 0) {
      assertThatThrownBy(() -> TunableTail.frozenPartId(a.id(), 1)).hasMessageContaining("not '" + a.id() + "'");
      return;
    }
    for (int k = 1; k <= a.maxTailBlocks(); k++) {
      TunableTail tail = TunableTail.of(a.idWithTail(a.defaultInputSize(), k));
      assertThat(tail.inputLength()).isEqualTo(a.featureSize(a.defaultInputSize(), k));
      assertThat(tail.outputLength()).isEqualTo(a.features());
      assertThat(TunableTail.frozenPartId(a.id(), k)).isEqualTo(a.id() + Bases.TAIL + k);
    }
    int tooMany = a.maxTailBlocks() + 1;
    assertThatThrownBy(() -> Bases.parseSpec(a.id() + Bases.TAIL + tooMany)).hasMessage(a.tailRefusal(tooMany));
    assertThatThrownBy(() -> TunableTail.frozenPartId(a.id(), tooMany)).hasMessage(a.tailRefusal(tooMany));
  }
}
