package io.bottleneck.nets.tf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.bottleneck.io.Images;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ImageBase;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;

/**
 * The MobileNetV2 SavedModels of {@code ../shared/data/models} (skipped where that folder is
 * absent): the frozen one gives the built-in {@code mobilenet_v2_1.0} base's features; the one a
 * current TensorFlow (2.21) wrote is refused, saying why and what to do.
 */
class SavedModelSharedDataTest {
  private static final Path MODELS = Path.of("../shared/data/models");
  private final Configuration conf = new Configuration();

  private static BaseDeclaration declare(String name, Path dir) {
    float[] tf = BaseDeclaration.preset("tf");
    return new BaseDeclaration(name, Format.SAVEDMODEL, dir.toAbsolutePath().normalize().toUri().toString(), 224, Layout.NHWC,
        false, tf[1], new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", "features", Pooling.NONE,
        "serving_default", "");
  }

  @Test
  void theFrozenSavedModelGivesTheBuiltInBasesFeatures() throws Exception {
    Path dir = MODELS.resolve("mobilenet_v2_1.0_224_savedmodel_frozen");
    assumeTrue(Files.isDirectory(dir), dir + " is not here");
    DeclaredBases.load(declare("mnv2_frozen", dir), conf);
    List<BufferedImage> images = List.of(
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg")), "cat.0.jpg"),
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/dog.1.jpg")), "dog.1.jpg"));
    try (ImageBase declared = Bases.load("mnv2_frozen", "tensorflow");
        ImageBase builtIn = Bases.load("mobilenet_v2_1.0", "tensorflow")) {
      assertThat(declared.featureSize()).isEqualTo(1280).isEqualTo(builtIn.featureSize());
      float[][] a = declared.featurize(images);
      float[][] b = builtIn.featurize(images);
      double max = 0;
      for (int i = 0; i < a.length; i++) {
        for (int j = 0; j < a[i].length; j++) {
          max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
        }
      }
      System.out.printf("frozen SavedModel vs built-in mobilenet_v2_1.0 (tensorflow): max abs diff %.3g%n", max);
      assertThat(max).isLessThan(1e-4);
    }
  }

  @Test
  void aSavedModelOfANewerTensorFlowIsRefusedSayingWhatToDo() {
    Path dir = MODELS.resolve("mobilenet_v2_1.0_224_savedmodel");
    assumeTrue(Files.isDirectory(dir), dir + " is not here");
    assertThatThrownBy(() -> DeclaredBases.load(declare("mnv2_tf221", dir), conf))
        .satisfies(e -> System.out.println("refused: " + e.getMessage()))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class,
            e -> assertThat(e.key()).isEqualTo("bases.mnv2_tf221.uri"))
        .hasMessageContaining("was written by a newer TensorFlow (2.21")
        .hasMessageContaining("whose variables TensorFlow Java 0.5.0 (TensorFlow 2.10) cannot restore")
        .hasMessageContaining("Could not find variable")
        .hasMessageContaining("frozen graph")
        .hasMessageContaining("tf2onnx");
  }
}
