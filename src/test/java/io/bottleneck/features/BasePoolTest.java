package io.bottleneck.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Prebuilt instances: a task waits for them rather than building another, and gets working ones. */
class BasePoolTest {
  private static final String BASE = "mobilenet_v1_0.25@128";

  @Test
  void aBorrowDuringThePrebuildWaitsForTheWarmedInstanceWhichGivesTheSameFeatures() throws Exception {
    String engine = Bases.ENGINE_TENSORFLOW;
    String key = Bases.poolKey(BASE, engine);
    BasePool.awaitPrebuilds(60_000);
    while (BasePool.state(key)[0] > 0) { // instances left by other tests in this JVM
      BasePool.borrow(BASE, engine, null).close();
    }
    BasePool.prebuild(BASE, engine, 1, 4);
    // borrowed at once: without waiting, it would build a second instance and leave the prebuilt one idle
    ImageBase borrowed = BasePool.borrow(BASE, engine, null);
    assertThat(BasePool.state(key)).containsExactly(0, 0);

    byte[] jpeg = Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg"));
    try (ImageBase fresh = Bases.load(BASE, engine)) {
      float[][] warmed = borrowed.featurizeFiles(List.of(jpeg), List.of("cat.jpg"));
      float[][] expected = fresh.featurizeFiles(List.of(jpeg), List.of("cat.jpg"));
      assertThat(warmed[0]).containsExactly(expected[0]);
    } finally {
      BasePool.giveBack(borrowed);
    }
    assertThat(BasePool.state(key)[0]).isEqualTo(1);
  }

  @Test
  void awaitingThePrebuildsReturnsOnceTheInstanceIsPooled() {
    String base = "mobilenet_v1_0.25@96";
    String key = Bases.poolKey(base, Bases.ENGINE_TENSORFLOW);
    BasePool.prebuild(base, Bases.ENGINE_TENSORFLOW, 1, 2);
    BasePool.awaitPrebuilds(60_000);
    assertThat(BasePool.state(key)[1]).isZero();
    assertThat(BasePool.state(key)[0]).isPositive();
  }

  @Test
  void aFailedPrebuildLetsTheTaskBuildAndReportItself() {
    String engine = Bases.ENGINE_TENSORFLOW;
    BasePool.prebuild("no_such_base", engine, 1, 4);
    assertThatThrownBy(() -> BasePool.borrow("no_such_base", engine, null))
        .hasMessageContaining("no_such_base");
    assertThat(BasePool.state(Bases.poolKey("no_such_base", engine))).containsExactly(0, 0);
  }
}
