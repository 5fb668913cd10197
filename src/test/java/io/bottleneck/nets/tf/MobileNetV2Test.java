package io.bottleneck.nets.tf;

import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bottleneck.io.Images;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.BasesTest;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.TunableTail;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * MobileNetV2 1.0 on the TensorFlow engine. Its values are pinned by golden-features.tsv
 * (GoldenFeaturesTest) at 224 and at other even and odd input sizes; where ../shared is present,
 * they are checked against ONNX Runtime's run of the same network.
 */
class MobileNetV2Test {

  private static final String ID = MobileNetV2.ID;
  /** The same weights exported to ONNX (see ../shared/README.md); absent in CI without it. */
  private static final Path ONNX_MODEL = Path.of("../shared/data/models/mobilenet_v2_1.0_224.onnx");

  @Test
  void describesItselfAndComesAfterTheOtherBases() {
    try (ImageBase base = Bases.load(ID)) {
      assertThat(base.id()).isEqualTo("mobilenet_v2_1.0");
      assertThat(base.engine()).isEqualTo(Bases.ENGINE_TENSORFLOW);
      assertThat(base.inputSize()).isEqualTo(224);
      assertThat(base.featureSize()).isEqualTo(1280);
      assertThat(base.preprocessingId()).isEqualTo("rgb-224-bilinear-pm1-v1");
    }
    assertThat(Bases.names()).startsWith(ID);
    assertThat(Bases.DEFAULT).isEqualTo(ID);
  }

  @Test
  void runsOnTensorflowAndOnnxRuntime() {
    assertThat(Bases.engines(ID)).containsExactly(Bases.ENGINE_TENSORFLOW, Bases.ENGINE_ONNX);
    assertThat(Bases.engines(ID + "@160")).containsExactly(Bases.ENGINE_TENSORFLOW, Bases.ENGINE_ONNX);
    assertThat(Bases.engines(MobileNetV1.ID)).containsExactly("tensorflow", "onnx", "dl4j");
    String message = "Base 'mobilenet_v2_1.0' does not run on engine dl4j; it runs on: tensorflow, onnx";
    assertThatThrownBy(() -> Bases.load(ID, Bases.ENGINE_DL4J))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    byte[] weights = Bases.weights(ID);
    assertThatThrownBy(() -> Bases.fromWeights(ID, weights, Bases.ENGINE_DL4J))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    assertThatThrownBy(() -> Bases.load(ID + "@160", Bases.ENGINE_DL4J))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Base 'mobilenet_v2_1.0@160' does not run on engine dl4j; it runs on: tensorflow, onnx");
  }

  @Test
  void otherInputSizesGiveAsManyFeatures() {
    // even and odd sides: Keras' correct_pad at every stride-2 layer (values in the goldens)
    for (int size : new int[] {160, 97}) {
      try (ImageBase base = Bases.load(ID + "@" + size)) {
        assertThat(base.id()).isEqualTo(ID + "@" + size);
        assertThat(base.inputSize()).isEqualTo(size);
        assertThat(base.featureSize()).isEqualTo(1280);
        assertThat(base.featurize(List.of(BasesTest.image("cat.0.jpg")))[0]).hasSize(1280);
      }
    }
    assertThatThrownBy(() -> Bases.parseSpec(ID + "@224"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("224 is mobilenet_v2_1.0's default input size; write mobilenet_v2_1.0");
    assertThatThrownBy(() -> Bases.parseSpec(ID + "@95"))
        .hasMessageContaining("must be in [96, 512], not 95");
  }

  /**
   * {@code @tail1} is the activation entering block_16 (160 channels, 7x7 at 224), flattened
   * NCHW; two blocks are refused: block_15 ends in a residual add.
   */
  @Test
  void leavesOutItsLastBlockOnly() {
    assertThat(Bases.parseSpec(ID + "@tail1")).containsExactly(ID + "@tail1");
    assertThat(TunableTail.frozenPartId(ID, 1)).isEqualTo(ID + "@tail1");
    assertThat(TunableTail.frozenPartId(ID + "@160", 1)).isEqualTo(ID + "@160@tail1");
    assertThat(Bases.engines(ID + "@tail1")).containsExactly(Bases.ENGINE_TENSORFLOW, Bases.ENGINE_ONNX);
    try (ImageBase base = Bases.load(ID + "@tail1")) {
      assertThat(base.id()).isEqualTo("mobilenet_v2_1.0@tail1");
      assertThat(base.featureSize()).isEqualTo(160 * 7 * 7);
      assertThat(base.preprocessingId()).isEqualTo("rgb-224-bilinear-pm1-v1");
      assertThat(base.featurize(List.of(BasesTest.image("cat.0.jpg")))[0]).hasSize(7_840);
    }
    // 160 -> 80 -> 40 -> 20 -> 10 -> 5; 97 -> 49 -> 25 -> 13 -> 7 -> 4
    assertThat(new MobileNetV2().featureSize(160, 1)).isEqualTo(160 * 5 * 5);
    assertThat(new MobileNetV2().featureSize(97, 1)).isEqualTo(160 * 4 * 4);
    String message = "MobileNetV2 can leave out its last 1 block only (block_16 and Conv_1), not 2:"
        + " block_15 ends in a residual add, which a DL4J layer list cannot express";
    assertThatThrownBy(() -> Bases.parseSpec(ID + "@tail2"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    assertThatThrownBy(() -> Bases.load(ID + "@tail2", Bases.ENGINE_ONNX))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    assertThatThrownBy(() -> TunableTail.frozenPartId(ID, 2))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(message);
  }

  @Test
  void weightsOfAnotherArchitectureAreRejected() {
    assertThat(KerasWeights.read(Bases.weights(ID)).totalValues()).isEqualTo(MobileNetV2.PARAMS);
    byte[] v1 = Bases.weights(MobileNetV1.ID);
    assertThatThrownBy(() -> Bases.fromWeights(ID, v1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("Weights do not fit base mobilenet_v2_1.0: Keras layer 'Conv1' not found in the weights file");
    byte[] v2 = Bases.weights(ID);
    assertThatThrownBy(() -> Bases.fromWeights(MobileNetV1.ID, v2, Bases.ENGINE_TENSORFLOW))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conv1");
  }

  /** Equal, within float rounding, to an independent runtime on the same weights. */
  @Test
  void featuresEqualOnnxRuntimesOnTheSameNetwork() throws Exception {
    assumeTrue(Files.isRegularFile(ONNX_MODEL), "needs " + ONNX_MODEL);
    File[] files = new File("data/sample/train").listFiles((d, n) -> n.endsWith(".jpg"));
    assertThat(files).isNotNull();
    Arrays.sort(files);
    List<BufferedImage> images = new ArrayList<>();
    for (int i = 0; i < files.length && images.size() < 8; i += 9) {
      images.add(Images.decode(Files.readAllBytes(files[i].toPath()), files[i].getName()));
    }
    // the same network as a user would bring it: declared, cut at its intermediate 'features'
    BaseDeclaration declared = DeclaredBases.load(new BaseDeclaration("shared_mobilenet_v2",
        BaseDeclaration.Format.ONNX, ONNX_MODEL.toUri().toString(), 224, BaseDeclaration.Layout.NCHW, false,
        1f / 127.5f, new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", "features",
        BaseDeclaration.Pooling.NONE, "", ""), new Configuration());
    float[][] expected;
    try (ImageBase own = Bases.load(declared.name(), Bases.ENGINE_ONNX)) {
      assertThat(own.featureSize()).isEqualTo(1280);
      expected = own.featurize(images);
    }
    for (String engine : Bases.engines(ID)) {
      try (ImageBase base = Bases.load(ID, engine)) {
        float[][] actual = base.featurize(images);
        double max = 0;
        for (int i = 0; i < images.size(); i++) {
          max = Math.max(max, BasesTest.maxAbsDiff(actual[i], expected[i]));
        }
        System.out.printf("%s on %s vs the declared ONNX file, %d images: max abs diff %.3g%n", ID, engine,
            images.size(), max);
        assertThat(max).as(engine).isLessThanOrEqualTo(1e-4);
      }
    }
  }
}
