package io.bottleneck.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.evaluate.Curves.CalibrationBin;
import io.bottleneck.evaluate.Curves.RocPoint;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CurvesTest {
  /** Binary examples with scores rounded to 0.05, so many ties. */
  private static ClassificationMetrics noisyBinary(int n, long seed) {
    Random random = new Random(seed);
    int[] y = new int[n];
    double[][] p = new double[n][];
    for (int i = 0; i < n; i++) {
      y[i] = random.nextInt(2);
      double score = Math.round(Math.min(1, Math.max(0, 0.5 + (y[i] == 1 ? 0.2 : -0.2) + random.nextGaussian() * 0.3)) * 20) / 20.0;
      p[i] = new double[] {1 - score, score};
    }
    return ClassificationMetrics.compute(List.of("cat", "dog"), y, p);
  }

  @Test
  void rocAreaEqualsTheRankAucWithTies() {
    for (long seed = 1; seed <= 5; seed++) {
      ClassificationMetrics m = noisyBinary(300, seed);
      List<RocPoint> roc = Curves.roc(m.examples(), 1);
      assertThat(roc.get(0)).isEqualTo(new RocPoint(0, 0));
      assertThat(roc.get(roc.size() - 1)).isEqualTo(new RocPoint(1, 1));
      for (int i = 1; i < roc.size(); i++) {
        assertThat(roc.get(i).falsePositiveRate()).isGreaterThanOrEqualTo(roc.get(i - 1).falsePositiveRate());
        assertThat(roc.get(i).truePositiveRate()).isGreaterThanOrEqualTo(roc.get(i - 1).truePositiveRate());
      }
      // 21 distinct scores at most: one point per tie group, plus the origin
      assertThat(roc.size()).isLessThanOrEqualTo(22);
      assertThat(Curves.area(roc)).isCloseTo(m.auc().getAsDouble(), within(1e-12));
    }
  }

  @Test
  void rocOfAPerfectRankingGoesThroughTheTopLeftCorner() {
    ClassificationMetrics m = ClassificationMetrics.compute(
        List.of("a", "b"), new int[] {0, 0, 1, 1}, new double[][] {{0.9, 0.1}, {0.7, 0.3}, {0.4, 0.6}, {0.2, 0.8}});
    List<RocPoint> roc = Curves.roc(m.examples(), 1);
    assertThat(roc).containsExactly(
        new RocPoint(0, 0), new RocPoint(0, 0.5), new RocPoint(0, 1), new RocPoint(0.5, 1), new RocPoint(1, 1));
    assertThat(Curves.area(roc)).isEqualTo(1.0);
    ClassificationMetrics oneClass = ClassificationMetrics.compute(
        List.of("a", "b"), new int[] {1, 1}, new double[][] {{0.9, 0.1}, {0.2, 0.8}});
    assertThat(Curves.roc(oneClass.examples(), 1)).isEmpty();
  }

  @Test
  void binaryReliabilityBinsThePositiveProbability() {
    // P(b) = 0.05 (a), 0.15 (a), 0.15 (b), 0.95 (b), 0.97 (b), 0.92 (a)
    ClassificationMetrics m = ClassificationMetrics.compute(
        List.of("a", "b"), new int[] {0, 0, 1, 1, 1, 0},
        new double[][] {{0.95, 0.05}, {0.85, 0.15}, {0.85, 0.15}, {0.05, 0.95}, {0.03, 0.97}, {0.08, 0.92}});
    List<CalibrationBin> bins = Curves.reliability(m.examples(), 10);
    assertThat(bins).hasSize(3);
    assertThat(bins.get(0)).isEqualTo(new CalibrationBin(0.0, 0.1, 1, 0.05, 0.0));
    assertThat(bins.get(1).count()).isEqualTo(2);
    assertThat(bins.get(1).meanPredicted()).isCloseTo(0.15, within(1e-12));
    assertThat(bins.get(1).observed()).isEqualTo(0.5);
    assertThat(bins.get(2).count()).isEqualTo(3);
    assertThat(bins.get(2).meanPredicted()).isCloseTo((0.95 + 0.97 + 0.92) / 3, within(1e-12));
    assertThat(bins.get(2).observed()).isCloseTo(2.0 / 3, within(1e-12));
    double ece = (1 * 0.05 + 2 * 0.35 + 3 * Math.abs(2.0 / 3 - (0.95 + 0.97 + 0.92) / 3)) / 6;
    assertThat(Curves.expectedCalibrationError(bins)).isCloseTo(ece, within(1e-12));
  }

  @Test
  void multiClassReliabilityUsesTheTopLabel() {
    ClassificationMetrics m = ClassificationMetrics.compute(
        List.of("a", "b", "c"), new int[] {0, 1, 2, 2},
        new double[][] {{0.8, 0.1, 0.1}, {0.7, 0.2, 0.1}, {0.1, 0.1, 0.8}, {0.35, 0.3, 0.35}});
    List<CalibrationBin> bins = Curves.reliability(m.examples(), 5);
    // confidences 0.8, 0.7, 0.8 (correct, wrong, correct) and 0.35 (first argmax a: wrong)
    assertThat(bins).extracting(CalibrationBin::count).containsExactly(1L, 1L, 2L);
    assertThat(bins.get(0).observed()).isEqualTo(0.0);
    assertThat(bins.get(1).observed()).isEqualTo(0.0);
    assertThat(bins.get(2).observed()).isEqualTo(1.0);
    assertThat(bins.stream().mapToLong(CalibrationBin::count).sum()).isEqualTo(m.n());
  }

  @Test
  void metricsKeepEveryExampleWithItsPath() {
    ClassificationMetrics m = ClassificationMetrics.compute(
        List.of("a", "b"), new int[] {0, 1}, new double[][] {{0.6, 0.4}, {0.7, 0.3}}, new String[] {"x/1.jpg", "x/2.jpg"});
    assertThat(m.examples()).extracting(ClassificationMetrics.Example::path).containsExactly("x/1.jpg", "x/2.jpg");
    assertThat(m.examples().get(1).correct()).isFalse();
    assertThat(m.examples().get(1).confidence()).isEqualTo(0.7);
  }
}
