package io.bottleneck.export;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.io.Images;
import io.bottleneck.nets.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** What the export tests share: square test images, tiny trained networks, comparisons. */
public final class ExportTesting {
  private ExportTesting() {}

  /**
   * The first {@code n} sample images, upright and resized to {@code side} as {@link
   * Preprocessing#resizedRgb} does, written as PNG files (lossless) into {@code dir}: predict
   * reads them at their size (its resize then changes nothing) and an exported model takes their
   * bytes. Returns the RGB bytes by file name.
   */
  public static Map<String, byte[]> squareImages(Path dir, int side, int n) throws Exception {
    Files.createDirectories(dir);
    Map<String, byte[]> out = new TreeMap<>();
    List<Path> samples;
    try (var files = Files.list(Path.of("data/sample/train"))) {
      samples = files.sorted().toList();
    }
    Preprocessing resize = Preprocessing.plusMinusOne(side);
    for (int i = 0; i < n; i++) {
      // cats and dogs alternately, so the classes differ
      Path sample = samples.get(i % 2 == 0 ? i : samples.size() - i);
      byte[] rgb = resize.resizedRgb(Images.decode(Files.readAllBytes(sample), sample.toString(), true));
      String name = "img" + i + ".png";
      ImageIO.write(toImage(rgb, side), "png", dir.resolve(name).toFile());
      out.put(name, rgb);
    }
    return out;
  }

  /** RGB bytes (HWC) as an image. */
  public static BufferedImage toImage(byte[] rgb, int side) {
    BufferedImage image = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
    for (int p = 0; p < side * side; p++) {
      image.setRGB(p % side, p / side, (rgb[3 * p] & 0xFF) << 16 | (rgb[3 * p + 1] & 0xFF) << 8 | (rgb[3 * p + 2] & 0xFF));
    }
    return image;
  }

  /** {@code net} after {@code steps} fits on {@code x} with seeded random labels (moves weights and batch-norm statistics). */
  public static MultiLayerNetwork trained(MultiLayerNetwork net, float[][] x, int steps) {
    int classes = net.layerSize(net.getnLayers() - 1);
    Random random = new Random(42);
    float[][] y = new float[x.length][classes];
    for (float[] row : y) {
      row[random.nextInt(classes)] = 1;
    }
    DataSet data = new DataSet(Nd4j.create(x).castTo(DataType.FLOAT), Nd4j.create(y).castTo(DataType.FLOAT));
    for (int i = 0; i < steps; i++) {
      net.fit(data);
    }
    return net;
  }

  /** The largest absolute difference between two sets of probability rows with the same keys. */
  public static double maxDifference(Map<String, double[]> expected, Map<String, double[]> actual) {
    assertThat(actual.keySet()).isEqualTo(expected.keySet());
    double max = 0;
    for (Map.Entry<String, double[]> e : expected.entrySet()) {
      double[] a = actual.get(e.getKey());
      assertThat(a).as(e.getKey()).hasSameSizeAs(e.getValue());
      for (int c = 0; c < a.length; c++) {
        max = Math.max(max, Math.abs(a[c] - e.getValue()[c]));
      }
    }
    return max;
  }
}
