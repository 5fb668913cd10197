package io.bottleneck.nets.tf;

import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.io.Images;
import io.bottleneck.io.JpegVariants;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The TensorFlow engine decodes plain JPEGs in its graph; its network inputs must equal the Java
 * path's ({@link Images#decode} + {@link Preprocessing}) to float rounding, or cached features
 * would depend on which engine computed them.
 */
class TfJpegInputTest {

  /** In 8-bit pixel units. Measured: 0 (the same IDCT, upsampling and float resize weights). */
  private static final double PIXEL_TOLERANCE = 1e-3;

  private static final List<byte[]> files = new ArrayList<>();
  private static final List<String> names = new ArrayList<>();

  @BeforeAll
  static void readFiles() throws Exception {
    add("cat.0.jpg", resource("/features/cat.0.jpg"));
    add("dog.0.jpg", resource("/features/dog.0.jpg"));
    File[] sample = new File("data/sample/train").listFiles((d, n) -> n.endsWith(".jpg"));
    assertThat(sample).isNotNull();
    Arrays.sort(sample);
    for (int i = 0; i < sample.length && files.size() < 10; i += 5) {
      add(sample[i].getName(), Files.readAllBytes(sample[i].toPath()));
    }
    BufferedImage cat = Images.decode(files.get(0), "cat.0.jpg");
    add("progressive.jpg", JpegVariants.write(cat, true));
    BufferedImage gray = new BufferedImage(cat.getWidth(), cat.getHeight(),
        BufferedImage.TYPE_BYTE_GRAY);
    gray.getGraphics().drawImage(cat, 0, 0, null);
    add("gray.jpg", JpegVariants.write(gray, false));
    BufferedImage small = new BufferedImage(100, 61, BufferedImage.TYPE_INT_RGB);
    small.getGraphics().drawImage(cat, 0, 0, 100, 61, null);
    add("small-upscaled.jpg", JpegVariants.write(small, false));
    for (byte[] file : files) {
      assertThat(Images.isPlainJpeg(file)).isTrue();
    }
  }

  private static void add(String name, byte[] bytes) {
    names.add(name);
    files.add(bytes);
  }

  private static byte[] resource(String path) throws IOException {
    try (InputStream in = TfJpegInputTest.class.getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return in.readAllBytes();
    }
  }

  static List<String> bases() {
    return Bases.names();
  }

  @ParameterizedTest
  @MethodSource("bases")
  void graphDecodedInputsEqualTheJavaPath(String baseId) throws Exception {
    try (TfGraphBase base = (TfGraphBase) Bases.load(baseId, Bases.ENGINE_TENSORFLOW)) {
      Preprocessing preprocessing = base.preprocessing();
      int perImage = 3 * base.inputSize() * base.inputSize();
      float[] graph = new float[perImage];
      float[] java = new float[perImage];
      // a unit of the network input per 8-bit pixel step: 1/127.5 for [-1, 1], 1 for Caffe
      double unit = Math.abs(preprocessing.scale()[0]);
      double worst = 0;
      for (int i = 0; i < files.size(); i++) {
        long before = base.graphDecodes();
        base.readInput(files.get(i), names.get(i), graph, 0);
        assertThat(base.graphDecodes()).as(names.get(i)).isEqualTo(before + 1);
        preprocessing.fillNhwc(Images.decode(files.get(i), names.get(i)), java, 0);
        double max = 0;
        for (int k = 0; k < perImage; k++) {
          max = Math.max(max, Math.abs(graph[k] - java[k]));
        }
        assertThat(max / unit).as("%s on %s: max diff in pixel units", names.get(i), baseId)
            .isLessThanOrEqualTo(PIXEL_TOLERANCE);
        worst = Math.max(worst, max / unit);
      }
      System.out.printf("%s: graph-decoded vs Java inputs, %d files: max diff %.3g pixel units%n",
          baseId, files.size(), worst);
    }
  }

  @ParameterizedTest
  @MethodSource("bases")
  void featuresFromFilesEqualDl4jFromDecodedImages(String baseId) throws Exception {
    List<BufferedImage> decoded = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      decoded.add(Images.decode(files.get(i), names.get(i)));
    }
    float[][] reference;
    String referenceEngine = Bases.engines(baseId).contains(Bases.ENGINE_DL4J)
        ? Bases.ENGINE_DL4J : Bases.ENGINE_TENSORFLOW; // where DL4J does not run the base
    try (ImageBase ref = Bases.load(baseId, referenceEngine)) {
      reference = ref.featurize(decoded);
      if (referenceEngine.equals(Bases.ENGINE_DL4J)) {
        assertThat(ref.featurizeFiles(files, names)).isDeepEqualTo(reference);
      }
    }
    try (ImageBase tf = Bases.load(baseId, Bases.ENGINE_TENSORFLOW)) {
      float[][] features = tf.featurizeFiles(files, names);
      assertThat(features).hasNumberOfRows(files.size());
      double max = 0;
      for (int i = 0; i < files.size(); i++) {
        for (int j = 0; j < features[i].length; j++) {
          max = Math.max(max, Math.abs(features[i][j] - reference[i][j]));
        }
      }
      System.out.printf("%s: tensorflow from files vs %s from decoded images: max abs diff"
          + " %.3g%n", baseId, referenceEngine, max);
      assertThat(max).as("%s: tensorflow from files vs %s from decoded images", baseId, referenceEngine)
          .isLessThanOrEqualTo(1e-4);
    }
  }

  @Test
  void otherImagesTakeTheJavaPath() throws Exception {
    byte[] adobe = JpegVariants.withSegment(files.get(0), 0xEE, "Adobe", 7);
    byte[] cmyk = resource("/ingest/cmyk.jpg");
    ByteArrayOutputStream png = new ByteArrayOutputStream();
    assertThat(ImageIO.write(Images.decode(files.get(0), "cat"), "png", png)).isTrue();
    try (TfGraphBase base = (TfGraphBase) Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW)) {
      Preprocessing preprocessing = base.preprocessing();
      int perImage = 3 * base.inputSize() * base.inputSize();
      for (byte[] file : List.of(adobe, cmyk, png.toByteArray())) {
        float[] graph = new float[2 * perImage];
        float[] java = new float[2 * perImage];
        base.readInput(file, "f", graph, 1);
        preprocessing.fillNhwc(Images.decode(file, "f"), java, perImage);
        assertThat(graph).containsExactly(java);
      }
      assertThat(base.graphDecodes()).isZero();
    }
  }

  @Test
  void aTruncatedJpegFailsNamingTheFile() throws Exception {
    byte[] cut = Arrays.copyOf(files.get(0), files.get(0).length / 2);
    assertThat(Images.isPlainJpeg(cut)).isTrue(); // the header is intact: TF gets to try
    try (TfGraphBase base = (TfGraphBase) Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW)) {
      float[] batch = new float[3 * base.inputSize() * base.inputSize()];
      assertThatThrownBy(() -> base.readInput(cut, "data/cut.jpg", batch, 0))
          .isInstanceOf(UndecodableImageException.class)
          .hasMessageContaining("data/cut.jpg")
          .hasMessageContaining("truncated");
      assertThat(base.graphDecodes()).isZero();
    }
  }
}
