package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The model-quality keys: augmentation, test-time augmentation, ensembles. */
class QualityConfigTest {

  @Test
  void augmentationAndTtaAreOffByDefault() {
    JobConfig cfg = ConfigLoader.load(null, List.of(), Map.of());
    assertThat(cfg.augmentation.enabled()).isFalse();
    assertThat(cfg.tta).isEqualTo("none");
  }

  @Test
  void augmentationTakesItsSeedFromTheSplitSeed() {
    JobConfig cfg = ConfigLoader.load(
        null,
        List.of("augment.copies=3", "augment.rotation=20", "augment.zoom=0.15", "augment.width-shift=0.1",
            "augment.horizontal-flip=false", "split.seed=7", "tta=flip",
            "base=mobilenet_v1_0.25+squeezenet_1.1"),
        Map.of());
    assertThat(cfg.augmentation.copies()).isEqualTo(3);
    assertThat(cfg.augmentation.rotationDegrees()).isEqualTo(20);
    assertThat(cfg.augmentation.zoom()).isEqualTo(0.15);
    assertThat(cfg.augmentation.widthShift()).isEqualTo(0.1);
    assertThat(cfg.augmentation.heightShift()).isZero();
    assertThat(cfg.augmentation.horizontalFlip()).isFalse();
    assertThat(cfg.augmentation.seed()).isEqualTo(7);
    assertThat(cfg.tta).isEqualTo("flip");
    assertThat(cfg.base).isEqualTo("mobilenet_v1_0.25+squeezenet_1.1");
  }

  @Test
  void theShippedQualityProfileLoadsAugmentsMobileNetV2AndUsesTta() {
    JobConfig cfg = ConfigLoader.load(new java.io.File("conf/quality.conf"), List.of(), Map.of());
    assertThat(cfg.base).isEqualTo("mobilenet_v2_1.0");
    assertThat(cfg.augmentation.copies()).isEqualTo(2);
    assertThat(cfg.augmentation.rotationDegrees()).isEqualTo(10);
    assertThat(cfg.augmentation.zoom()).isEqualTo(0.1);
    assertThat(cfg.fineTuneBlocks).isZero();
    assertThat(cfg.tta).isEqualTo("flip");
  }

  @Test
  void badValuesNameTheKey() {
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("augment.zoom=1.5"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.augment.zoom to 1.5: the value must be in [0, 1)");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("augment.copies=-1"), Map.of()))
        .hasMessageContaining("bottleneck.augment.copies");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("augment.rotation=200"), Map.of()))
        .hasMessageContaining("bottleneck.augment.rotation");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("tta=mirror"), Map.of()))
        .hasMessage("Cannot set bottleneck.tta to mirror: the value must be none or flip");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("base=mobilenet_v1_0.25+mobilenet_v1_0.25"), Map.of()))
        .hasMessageContaining("bottleneck.base");
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("augment.shear=0.2"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .hasMessageContaining("augment.shear");
  }
}
