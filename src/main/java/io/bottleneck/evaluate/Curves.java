package io.bottleneck.evaluate;

import io.bottleneck.evaluate.ClassificationMetrics.Example;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The curves behind the report's plots, from a list of examples: the ROC curve of one class
 * (sklearn {@code roc_curve}, one point per distinct score) and the reliability diagram (sklearn
 * {@code calibration_curve} with uniform bins). {@link ClassificationMetrics} computes them from
 * every example of a set it collected and keeps them ({@link ClassificationMetrics#rocCurve()},
 * {@link ClassificationMetrics#reliability()}); for a larger set it aggregates them on the
 * executors instead.
 */
public final class Curves {
  private Curves() {}

  /** One point of a ROC curve. */
  public record RocPoint(double falsePositiveRate, double truePositiveRate) {}

  /**
   * One bin of a reliability diagram.
   *
   * @param meanPredicted mean predicted probability of the examples in the bin
   * @param observed fraction of them for which the event happened (positive class, or correct)
   */
  public record CalibrationBin(double lower, double upper, long count, double meanPredicted, double observed) {}

  /**
   * ROC curve of class {@code positive} scored by its probability, from (0, 0) to (1, 1): one
   * point after each group of tied scores, highest scores first. Empty when the examples hold
   * no positive or no negative.
   */
  public static List<RocPoint> roc(List<Example> examples, int positive) {
    List<Example> byScore = new ArrayList<>(examples);
    byScore.sort(Comparator.comparingDouble((Example e) -> e.probabilities()[positive]).reversed());
    long positives = byScore.stream().filter(e -> e.trueIndex() == positive).count();
    long negatives = byScore.size() - positives;
    List<RocPoint> points = new ArrayList<>();
    if (positives == 0 || negatives == 0) {
      return points;
    }
    points.add(new RocPoint(0, 0));
    long truePositives = 0;
    long falsePositives = 0;
    int i = 0;
    while (i < byScore.size()) {
      double score = byScore.get(i).probabilities()[positive];
      while (i < byScore.size() && byScore.get(i).probabilities()[positive] == score) {
        if (byScore.get(i).trueIndex() == positive) {
          truePositives++;
        } else {
          falsePositives++;
        }
        i++;
      }
      points.add(new RocPoint((double) falsePositives / negatives, (double) truePositives / positives));
    }
    return points;
  }

  /** Area under a curve by the trapezoidal rule (equals the rank AUC for a {@link #roc} curve). */
  public static double area(List<RocPoint> curve) {
    double area = 0;
    for (int i = 1; i < curve.size(); i++) {
      RocPoint a = curve.get(i - 1);
      RocPoint b = curve.get(i);
      area += (b.falsePositiveRate() - a.falsePositiveRate()) * (a.truePositiveRate() + b.truePositiveRate()) / 2;
    }
    return area;
  }

  /**
   * Reliability diagram in {@code bins} uniform bins over [0, 1]. Two classes: class 1's
   * probability against whether the example is class 1 (sklearn's binary calibration curve).
   * More classes: the predicted class's probability against whether the prediction is correct
   * (top-label calibration). Empty bins are left out.
   */
  public static List<CalibrationBin> reliability(List<Example> examples, int bins) {
    if (bins < 1) {
      throw new IllegalArgumentException("bins must be >= 1 but was " + bins);
    }
    long[] count = new long[bins];
    double[] predictedSum = new double[bins];
    long[] happened = new long[bins];
    for (Example e : examples) {
      boolean binary = e.probabilities().length == 2;
      double p = binary ? e.probabilities()[1] : e.confidence();
      boolean event = binary ? e.trueIndex() == 1 : e.correct();
      int bin = Math.min(bins - 1, (int) Math.floor(p * bins));
      count[bin]++;
      predictedSum[bin] += p;
      if (event) {
        happened[bin]++;
      }
    }
    return calibrationBins(count, predictedSum, happened);
  }

  /**
   * The non-empty bins of a reliability diagram with {@code count.length} uniform bins, from each
   * bin's count, sum of predicted probabilities and count of events.
   */
  static List<CalibrationBin> calibrationBins(long[] count, double[] predictedSum, long[] happened) {
    int bins = count.length;
    List<CalibrationBin> out = new ArrayList<>();
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        out.add(new CalibrationBin(
            (double) b / bins, (double) (b + 1) / bins, count[b], predictedSum[b] / count[b], (double) happened[b] / count[b]));
      }
    }
    return out;
  }

  /** Expected calibration error: the count-weighted mean |observed - predicted| over the bins. */
  public static double expectedCalibrationError(List<CalibrationBin> bins) {
    long n = 0;
    double sum = 0;
    for (CalibrationBin b : bins) {
      n += b.count();
      sum += b.count() * Math.abs(b.observed() - b.meanPredicted());
    }
    return n == 0 ? Double.NaN : sum / n;
  }
}
