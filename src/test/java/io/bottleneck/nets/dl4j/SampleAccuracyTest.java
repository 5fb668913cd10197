package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.BasesTest;
import io.bottleneck.nets.ImageBase;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Evidence a golden file cannot fake: pretrained features must separate cats from dogs on the
 * 80 sample images (leave-one-out, small logistic regression), and the same architecture with
 * random weights must not. Wrong weight layout, channel order or scaling drops accuracy towards
 * chance. Measured: MobileNet 0.9125, SqueezeNet 0.95, random weights <= 0.61. The
 * thresholds are set so that a kernel loaded with kH and kW swapped fails too (0.8625 and 0.775),
 * as does RGB/BGR swapped for MobileNet (0.825); subtler slips are the golden test's job.
 */
class SampleAccuracyTest {

  private static final File SAMPLE = new File("data/sample/train");
  private static final int BATCH = 16;

  private static List<BufferedImage> images;
  private static int[] labels;

  @BeforeAll
  static void readSample() throws IOException {
    File[] files = SAMPLE.listFiles((dir, name) -> name.endsWith(".jpg"));
    assertThat(files).as("sample images in %s", SAMPLE.getAbsolutePath()).isNotNull();
    Arrays.sort(files);
    images = new ArrayList<>();
    labels = new int[files.length];
    for (int i = 0; i < files.length; i++) {
      String name = files[i].getName();
      assertThat(name).matches("(cat|dog)\\..*");
      labels[i] = name.startsWith("dog") ? 1 : 0;
      BufferedImage decoded = ImageIO.read(files[i]);
      assertThat(decoded).as("decodable %s", name).isNotNull();
      images.add(BasesTest.toIntRgb(decoded));
    }
    assertThat(images).hasSize(80);
  }

  @Test
  void mobileNetFeaturesSeparateCatsFromDogsAndRandomWeightsDoNot() {
    double pretrained = looAccuracy(featurize(Bases.load(MobileNetV1.ID)));
    double random = looAccuracy(featurize(MobileNetV1Base.randomlyInitialised(42)));
    System.out.printf("MobileNet leave-one-out accuracy: pretrained %.4f, random %.4f%n",
        pretrained, random);
    assertThat(pretrained).isGreaterThanOrEqualTo(0.875);
    assertThat(random).isLessThanOrEqualTo(0.70);
  }

  @Test
  void squeezeNetFeaturesSeparateCatsFromDogsAndRandomWeightsDoNot() {
    double pretrained = looAccuracy(featurize(Bases.load(SqueezeNet.ID)));
    double random = looAccuracy(featurize(SqueezeNetBase.randomlyInitialised(42)));
    System.out.printf("SqueezeNet leave-one-out accuracy: pretrained %.4f, random %.4f%n",
        pretrained, random);
    assertThat(pretrained).isGreaterThanOrEqualTo(0.90);
    assertThat(random).isLessThanOrEqualTo(0.70);
  }

  private static float[][] featurize(ImageBase base) {
    float[][] out = new float[images.size()][];
    for (int i = 0; i < images.size(); i += BATCH) {
      float[][] rows = base.featurize(images.subList(i, Math.min(i + BATCH, images.size())));
      System.arraycopy(rows, 0, out, i, rows.length);
    }
    return out;
  }

  /** Leave-one-out accuracy of an L2-regularised logistic regression on standardised features. */
  static double looAccuracy(float[][] x) {
    int correct = 0;
    for (int held = 0; held < x.length; held++) {
      int d = x[0].length;
      double[] mean = new double[d];
      double[] sd = new double[d];
      int n = x.length - 1;
      for (int i = 0; i < x.length; i++) {
        if (i != held) {
          for (int j = 0; j < d; j++) {
            mean[j] += x[i][j] / (double) n;
          }
        }
      }
      for (int i = 0; i < x.length; i++) {
        if (i != held) {
          for (int j = 0; j < d; j++) {
            double c = x[i][j] - mean[j];
            sd[j] += c * c / n;
          }
        }
      }
      double[][] z = new double[x.length][d];
      for (int i = 0; i < x.length; i++) {
        for (int j = 0; j < d; j++) {
          z[i][j] = (x[i][j] - mean[j]) / (Math.sqrt(sd[j]) + 1e-6);
        }
      }
      double[] w = new double[d + 1]; // last: intercept
      train(z, labels, held, w);
      double score = w[d];
      for (int j = 0; j < d; j++) {
        score += w[j] * z[held][j];
      }
      if ((score > 0 ? 1 : 0) == labels[held]) {
        correct++;
      }
    }
    return correct / (double) x.length;
  }

  /** Full-batch gradient descent on the logistic loss, skipping row {@code skip}. */
  private static void train(double[][] z, int[] y, int skip, double[] w) {
    int d = w.length - 1;
    int n = z.length - 1;
    double lambda = 0.01;
    double rate = 0.5;
    double[] grad = new double[d + 1];
    for (int it = 0; it < 300; it++) {
      Arrays.fill(grad, 0);
      for (int i = 0; i < z.length; i++) {
        if (i == skip) {
          continue;
        }
        double s = w[d];
        for (int j = 0; j < d; j++) {
          s += w[j] * z[i][j];
        }
        double err = 1 / (1 + Math.exp(-s)) - y[i];
        for (int j = 0; j < d; j++) {
          grad[j] += err * z[i][j];
        }
        grad[d] += err;
      }
      for (int j = 0; j < d; j++) {
        w[j] -= rate * (grad[j] / n + lambda * w[j]);
      }
      w[d] -= rate * grad[d] / n;
    }
  }
}
