package io.bottleneck.nets;

import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every engine computes the same features as the DL4J reference for the same base and images,
 * to within 1e-4 absolute: the promise behind sharing {@link ImageBase#preprocessingId()} (and
 * so the feature cache) across engines.
 */
class EnginesTest {

  private static final float TOLERANCE = 1e-4f;
  private static final String UNKNOWN_ENGINE =
      "Unknown engine 'tflite'; supported: tensorflow, onnx, dl4j";

  private static List<BufferedImage> images;

  @BeforeAll
  static void readImages() throws IOException {
    images = new ArrayList<>();
    images.add(BasesTest.image("cat.0.jpg"));
    images.add(BasesTest.image("dog.0.jpg"));
    // a few of the sample images too: other sizes and aspect ratios
    File[] files = new File("data/sample/train").listFiles((d, n) -> n.endsWith(".jpg"));
    assertThat(files).isNotNull();
    Arrays.sort(files);
    for (int i = 0; i < files.length && images.size() < 14; i += 7) {
      images.add(BasesTest.toIntRgb(ImageIO.read(files[i])));
    }
  }

  /**
   * The bases DL4J runs (the reference) at their default input size and at another one (an
   * {@code @<size>} id).
   */
  static List<String> bases() {
    List<String> ids = new ArrayList<>(
        Bases.names().stream().filter(id -> Bases.engines(id).contains(Bases.ENGINE_DL4J)).toList());
    ids.add(SqueezeNet.ID + "@320");
    ids.add(MobileNetV1.ID + "@160");
    return ids;
  }

  @ParameterizedTest
  @MethodSource("bases")
  void everyEngineMatchesDl4j(String baseId) {
    float[][] reference;
    try (ImageBase dl4j = Bases.load(baseId, Bases.ENGINE_DL4J)) {
      assertThat(dl4j.engine()).isEqualTo(Bases.ENGINE_DL4J);
      reference = dl4j.featurize(images);
    }
    for (String engine : Bases.engines()) {
      try (ImageBase base = Bases.load(baseId, engine)) {
        assertThat(base.engine()).isEqualTo(engine);
        assertThat(base.id()).isEqualTo(baseId);
        float[][] features = base.featurize(images);
        assertThat(features).hasNumberOfRows(images.size());
        double max = 0;
        double maxRel = 0;
        double largest = 0;
        for (int i = 0; i < images.size(); i++) {
          assertThat(features[i]).hasSize(base.featureSize());
          for (int j = 0; j < features[i].length; j++) {
            double d = Math.abs(features[i][j] - reference[i][j]);
            max = Math.max(max, d);
            largest = Math.max(largest, Math.abs(reference[i][j]));
            maxRel = Math.max(maxRel, d / Math.max(1e-3, Math.abs(reference[i][j])));
          }
        }
        System.out.printf("%s on %s vs dl4j, %d images: max abs diff %.3g (largest value %.3g,"
            + " max rel diff %.3g)%n", baseId, engine, images.size(), max, largest, maxRel);
        assertThat(max).as("%s on %s: max abs diff to dl4j", baseId, engine)
            .isLessThanOrEqualTo(TOLERANCE);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("bases")
  void enginesDescribeTheBaseAlike(String baseId) {
    try (ImageBase tf = Bases.load(baseId, Bases.ENGINE_TENSORFLOW);
        ImageBase dl4j = Bases.load(baseId, Bases.ENGINE_DL4J)) {
      // equal features (above), so equal cache keys
      assertThat(tf.preprocessingId()).isEqualTo(dl4j.preprocessingId());
      assertThat(tf.inputSize()).isEqualTo(dl4j.inputSize());
      assertThat(tf.featureSize()).isEqualTo(dl4j.featureSize());
      assertThat(tf.featurize(List.of())).isEmpty();
    }
  }

  @Test
  void enginesAreListedAndTheDefaultIsOne() {
    assertThat(Bases.engines()).containsExactly("tensorflow", "onnx", "dl4j");
    assertThat(Bases.engines()).contains(Bases.DEFAULT_ENGINE);
    try (ImageBase base = Bases.load(Bases.DEFAULT)) {
      assertThat(base.engine()).isEqualTo(Bases.DEFAULT_ENGINE);
    }
  }

  @Test
  void unknownEngineIsRejectedWithTheSupportedList() {
    byte[] weights = Bases.weights(Bases.DEFAULT);
    assertThatThrownBy(() -> Bases.load(Bases.DEFAULT, "tflite"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN_ENGINE);
    assertThatThrownBy(() -> Bases.fromWeights(Bases.DEFAULT, weights, "tflite"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN_ENGINE);
    assertThatThrownBy(() -> Bases.checkEngine("tflite"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN_ENGINE);
    assertThatThrownBy(() -> Bases.load("resnet50", "onnx"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("Unknown base");
  }

  @Test
  void tensorflowRejectsWeightsOfAnotherArchitecture() {
    byte[] squeezeNetWeights = Bases.weights(SqueezeNet.ID);
    assertThatThrownBy(
            () -> Bases.fromWeights(MobileNetV1.ID, squeezeNetWeights, "tensorflow"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conv1");
    byte[] mobileNetWeights = Bases.weights(MobileNetV1.ID);
    assertThatThrownBy(
            () -> Bases.fromWeights(SqueezeNet.ID, mobileNetWeights, "tensorflow"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conv1");
  }

  @ParameterizedTest
  @MethodSource("bases")
  void tensorflowReturnsOneRowPerImageInOrderAndNamesANullImage(String baseId) {
    try (ImageBase base = Bases.load(baseId, Bases.ENGINE_TENSORFLOW)) {
      BufferedImage cat = images.get(0);
      BufferedImage dog = images.get(1);
      float[][] both = base.featurize(List.of(cat, dog));
      float[][] swapped = base.featurize(List.of(dog, cat));
      float[][] alone = base.featurize(List.of(dog));
      BasesTest.assertClose(both[0], swapped[1], 1e-5f);
      BasesTest.assertClose(both[1], swapped[0], 1e-5f);
      BasesTest.assertClose(both[1], alone[0], 1e-5f);
      assertThat(BasesTest.maxAbsDiff(both[0], both[1])).isGreaterThan(0.1f);
      List<BufferedImage> withNull = new ArrayList<>(List.of(cat));
      withNull.add(null);
      assertThatThrownBy(() -> base.featurize(withNull))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Image 1 of the batch is null");
    }
  }

  @Test
  void closedTensorflowBaseRefusesToRunAndClosesOnce() {
    ImageBase base = Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW);
    assertThat(base.featurize(images.subList(0, 1))).hasNumberOfRows(1);
    base.close();
    base.close(); // idempotent
    assertThatThrownBy(() -> base.featurize(images.subList(0, 1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void nhwcHoldsTheSameValuesAsNchw() {
    for (Preprocessing p : List.of(Preprocessing.plusMinusOne(224), Preprocessing.caffe(227))) {
      float[] nchw = p.toNchw(images.subList(0, 3));
      float[] nhwc = p.toNhwc(images.subList(0, 3));
      int s = p.size();
      assertThat(nhwc).hasSameSizeAs(nchw);
      for (int n = 0; n < 3; n++) {
        for (int c = 0; c < 3; c++) {
          for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
              float a = nchw[((n * 3 + c) * s + y) * s + x];
              float b = nhwc[((n * s + y) * s + x) * 3 + c];
              if (Float.floatToIntBits(a) != Float.floatToIntBits(b)) {
                throw new AssertionError(p.id() + ": image " + n + " c " + c + " y " + y
                    + " x " + x + ": " + a + " vs " + b);
              }
            }
          }
        }
      }
    }
  }

  @AfterAll
  static void release() {
    images = null;
  }
}
