package io.bottleneck.nets.tf;

import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import org.junit.jupiter.api.Test;

/** The process environment TF reads natively holds the settings TfRuntime puts there. */
class TfRuntimeTest {

  interface CLibrary extends Library {
    String getenv(String name);
  }

  @Test
  void onednnAndOwnThreadPoolsAreOnUnlessTheUserChose() {
    try (ImageBase base = Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW)) {
      assertThat(base.engine()).isEqualTo(Bases.ENGINE_TENSORFLOW);
    }
    CLibrary libc = (CLibrary) Native.loadLibrary("c", CLibrary.class);
    for (String variable : new String[] {TfRuntime.ONEDNN_VARIABLE, TfRuntime.OWN_POOLS_VARIABLE}) {
      String chosen = System.getenv(variable);
      assertThat(libc.getenv(variable)).as(variable).isEqualTo(chosen == null ? "1" : chosen);
    }
  }
}
