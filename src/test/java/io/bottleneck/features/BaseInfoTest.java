package io.bottleneck.features;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.nets.Bases;
import org.junit.jupiter.api.Test;

/** The driver's facts of a built-in base come from its descriptor and equal the built network's. */
class BaseInfoTest {
  @Test
  void describedEqualsBuiltAtOtherSizesAndWithoutTheLastBlocks() {
    for (String id : new String[] {"mobilenet_v1_0.25", "mobilenet_v1_0.25@160", "mobilenet_v1_0.25@161@tail1", "squeezenet_1.1@tail1"}) {
      for (String engine : Bases.engines(id)) {
        assertThat(BaseInfo.described(id, engine)).as(id + " on " + engine).isEqualTo(BaseInfo.built(id, engine));
      }
    }
  }

  @Test
  void basesWithoutADescriptorAreBuilt() {
    assertThat(BaseInfo.described("pixels32", Bases.DEFAULT_ENGINE)).isNull();
    // an engine the architecture does not run: building it gives the message naming the engines
    assertThat(BaseInfo.described(Bases.DEFAULT, Bases.ENGINE_DL4J)).isNull();
  }
}
