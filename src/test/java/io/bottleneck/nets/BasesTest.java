package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.dl4j.GraphImageBase;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

public class BasesTest {

  private static final String UNKNOWN =
      "Unknown base 'resnet50'; supported: mobilenet_v2_1.0, mobilenet_v1_0.25, squeezenet_1.1, each optionally with an input size, e.g. squeezenet_1.1@320";

  private static ImageBase mobileNet;
  private static ImageBase squeezeNet;

  @BeforeAll
  static void load() {
    // the DL4J reference; EnginesTest holds the other engines to it
    mobileNet = Bases.load("mobilenet_v1_0.25", Bases.ENGINE_DL4J);
    squeezeNet = Bases.load("squeezenet_1.1", Bases.ENGINE_DL4J);
  }

  /** A test image from the classpath as TYPE_INT_RGB, as the API expects. */
  public static BufferedImage image(String name) {
    try (InputStream in = BasesTest.class.getResourceAsStream("/features/" + name)) {
      assertThat(in).as("test image %s", name).isNotNull();
      return toIntRgb(ImageIO.read(in));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code src} as TYPE_INT_RGB. */
  public static BufferedImage toIntRgb(BufferedImage src) {
    BufferedImage rgb =
        new BufferedImage(src.getWidth(), src.getHeight(), BufferedImage.TYPE_INT_RGB);
    rgb.createGraphics().drawImage(src, 0, 0, null);
    return rgb;
  }

  @Test
  void namesListsTheSupportedBasesDefaultFirst() {
    assertThat(Bases.names()).containsExactly("mobilenet_v2_1.0", "mobilenet_v1_0.25", "squeezenet_1.1");
    assertThat(Bases.DEFAULT).isEqualTo(Bases.names().get(0));
  }

  @Test
  void basesDescribeThemselves() {
    assertThat(mobileNet.id()).isEqualTo("mobilenet_v1_0.25");
    assertThat(mobileNet.inputSize()).isEqualTo(224);
    assertThat(mobileNet.featureSize()).isEqualTo(256);
    assertThat(mobileNet.preprocessingId()).isEqualTo("rgb-224-bilinear-pm1-v1");

    assertThat(squeezeNet.id()).isEqualTo("squeezenet_1.1");
    assertThat(squeezeNet.inputSize()).isEqualTo(227);
    assertThat(squeezeNet.featureSize()).isEqualTo(512);
    assertThat(squeezeNet.preprocessingId()).isEqualTo("bgr-227-bilinear-caffemean-v1");
  }

  @Test
  void everyPretrainedParameterIsLoaded() {
    // loading already verified that every tensor and parameter matched; the counts pin it
    assertThat(((GraphImageBase) mobileNet).graph().numParams()).isEqualTo(218_544L);
    assertThat(((GraphImageBase) squeezeNet).graph().numParams()).isEqualTo(722_496L);
  }

  @Test
  void unknownIdIsRejectedWithTheSupportedList() {
    assertThatThrownBy(() -> Bases.load("resnet50"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN);
    assertThatThrownBy(() -> Bases.weights("resnet50"))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN);
    assertThatThrownBy(() -> Bases.fromWeights("resnet50", new byte[] {1}))
        .isInstanceOf(IllegalArgumentException.class).hasMessage(UNKNOWN);
  }

  @Test
  void anInputSizeIsPartOfTheIdAndOfTheCacheKey() {
    try (ImageBase large = Bases.load("squeezenet_1.1@320")) {
      assertThat(large.id()).isEqualTo("squeezenet_1.1@320");
      assertThat(large.inputSize()).isEqualTo(320);
      assertThat(large.featureSize()).isEqualTo(512);
      assertThat(large.preprocessingId()).contains("320").isNotEqualTo(squeezeNet.preprocessingId());
      float[] atDefault = squeezeNet.featurize(List.of(image("cat.0.jpg")))[0];
      float[] at320 = large.featurize(List.of(image("cat.0.jpg")))[0];
      double diff = 0;
      for (int i = 0; i < atDefault.length; i++) {
        diff = Math.max(diff, Math.abs(atDefault[i] - at320[i]));
      }
      assertThat(diff).as("features of another resolution").isGreaterThan(1.0);
    }
    assertThat(Bases.inputSize("mobilenet_v1_0.25")).isEqualTo(224);
    assertThat(Bases.inputSize("mobilenet_v1_0.25@160@tail2")).isEqualTo(160);
    assertThat(Bases.parseSpec("squeezenet_1.1+squeezenet_1.1@320")).containsExactly("squeezenet_1.1", "squeezenet_1.1@320");
    assertThatThrownBy(() -> Bases.parseSpec("squeezenet_1.1@227")).hasMessageContaining("default input size; write squeezenet_1.1");
    assertThatThrownBy(() -> Bases.parseSpec("squeezenet_1.1@64")).hasMessageContaining("must be in [96, 512], not 64");
    assertThatThrownBy(() -> Bases.parseSpec("squeezenet_1.1@big")).hasMessageContaining("Unknown base 'squeezenet_1.1@big'");
  }

  @Test
  void weightsOfAnotherArchitectureFailLoudly() {
    byte[] squeezeNetWeights = Bases.weights("squeezenet_1.1");
    assertThatThrownBy(
            () -> Bases.fromWeights("mobilenet_v1_0.25", squeezeNetWeights, Bases.ENGINE_DL4J))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Shape mismatch for conv1.W");
    byte[] mobileNetWeights = Bases.weights("mobilenet_v1_0.25");
    assertThatThrownBy(
            () -> Bases.fromWeights("squeezenet_1.1", mobileNetWeights, Bases.ENGINE_DL4J))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("conv1");
  }

  @Test
  void bytesThatAreNotHdf5AreRejected() {
    assertThatThrownBy(() -> Bases.fromWeights("mobilenet_v1_0.25", "not hdf5".getBytes()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Bases.fromWeights("mobilenet_v1_0.25", new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void featurizeReturnsOneRowPerImageInOrder() {
    BufferedImage cat = image("cat.0.jpg");
    BufferedImage dog = image("dog.0.jpg");
    for (ImageBase base : List.of(mobileNet, squeezeNet)) {
      float[][] both = base.featurize(List.of(cat, dog));
      float[][] swapped = base.featurize(List.of(dog, cat));
      assertThat(both).hasNumberOfRows(2);
      assertThat(both[0]).hasSize(base.featureSize());
      assertThat(both[1]).hasSize(base.featureSize());
      assertClose(both[0], swapped[1], 1e-5f);
      assertClose(both[1], swapped[0], 1e-5f);
      assertThat(maxAbsDiff(both[0], both[1])).as("cat and dog differ").isGreaterThan(0.1f);
      assertThat(base.featurize(List.of())).isEmpty();
    }
  }

  @Test
  void imagesOfOtherTypesGiveTheSameFeatures() throws IOException {
    try (InputStream in = BasesTest.class.getResourceAsStream("/features/cat.0.jpg")) {
      BufferedImage decoded = ImageIO.read(in); // ImageIO gives TYPE_3BYTE_BGR for JPEG
      assertThat(decoded.getType()).isNotEqualTo(BufferedImage.TYPE_INT_RGB);
      float[] direct = mobileNet.featurize(List.of(decoded))[0];
      float[] converted = mobileNet.featurize(List.of(toIntRgb(decoded)))[0];
      assertClose(direct, converted, 1e-6f);
    }
  }

  @Test
  void nullImageIsReportedByPosition() {
    List<BufferedImage> batch = new java.util.ArrayList<>();
    batch.add(image("cat.0.jpg"));
    batch.add(null);
    assertThatThrownBy(() -> mobileNet.featurize(batch))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Image 1 of the batch is null");
  }

  /** Asserts that no value of {@code actual} is further than {@code tolerance} from {@code expected}. */
  public static void assertClose(float[] actual, float[] expected, float tolerance) {
    assertThat(actual).hasSameSizeAs(expected);
    assertThat(maxAbsDiff(actual, expected)).isLessThanOrEqualTo(tolerance);
  }

  /** The largest absolute difference between two vectors of one length. */
  public static float maxAbsDiff(float[] a, float[] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }
}
