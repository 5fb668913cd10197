package io.bottleneck.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.evaluate.ClassificationMetrics.Example;
import io.bottleneck.evaluate.Curves.CalibrationBin;
import io.bottleneck.evaluate.Curves.RocPoint;
import io.bottleneck.io.Columns;
import io.bottleneck.report.RunReport;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Predicate;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link ClassificationMetrics#fromPredictions} above its collect limit (set below the number of
 * rows here) equals the collected computation: the same metrics and curves, the report's top
 * examples, and nothing per row on the driver beyond the examples kept.
 */
@ExtendWith(LocalSpark.class)
class MetricsAboveCollectLimitTest {
  private static final List<String> BINARY = List.of("cat", "dog");
  private static final List<String> THREE = List.of("a", "b", "c");
  private static final int KEPT = 40;
  private static final StructType SCHEMA =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType)
          .add(Columns.LABEL_INDEX, DataTypes.IntegerType)
          .add(Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));

  private final SparkSession spark;

  MetricsAboveCollectLimitTest(SparkSession spark) {
    this.spark = spark;
  }

  private Dataset<Row> scored(List<Row> rows) {
    return spark.createDataFrame(rows, SCHEMA).repartition(4);
  }

  private static String path(int i) {
    return String.format(Locale.ROOT, "x/img%05d.jpg", i);
  }

  /** Two classes, class 1's probability rounded to 0.05 (many ties, 0.5 ties the argmax) or not. */
  private Dataset<Row> binary(int n, long seed, boolean rounded) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = random.nextInt(2);
      double s = Math.min(1, Math.max(0, 0.5 + (y == 1 ? 0.2 : -0.2) + random.nextGaussian() * 0.3));
      if (rounded) {
        s = Math.round(s * 20) / 20.0;
      }
      rows.add(RowFactory.create(path(i), y, new double[] {1 - s, s}));
    }
    return scored(rows);
  }

  /** Three classes from small integer weights: ties in the argmax and the scores. */
  private Dataset<Row> three(int n, long seed) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = random.nextInt(3);
      double[] w = new double[3];
      double total = 0;
      for (int c = 0; c < 3; c++) {
        w[c] = random.nextInt(4) + (c == y ? random.nextInt(3) : 0);
        total += w[c];
      }
      if (total == 0) {
        w[y] = 1;
        total = 1;
      }
      for (int c = 0; c < 3; c++) {
        w[c] /= total;
      }
      rows.add(RowFactory.create(path(i), y, w));
    }
    return scored(rows);
  }

  /** The small path's (every row collected) and the large path's metrics of {@code scored}. */
  private static ClassificationMetrics[] bothPaths(Dataset<Row> scored, List<String> classes) {
    ClassificationMetrics small = ClassificationMetrics.fromPredictions(scored, classes);
    ClassificationMetrics large = ClassificationMetrics.fromPredictions(scored, classes, 100, KEPT);
    assertThat(small.examplesComplete()).isTrue();
    assertThat(small.examples()).hasSize((int) small.n());
    assertThat(large.examplesComplete()).isFalse();
    return new ClassificationMetrics[] {small, large};
  }

  /** What the report's grids would pick: confidence descending, then path. */
  private static List<Example> top(List<Example> examples, Predicate<Example> which, int limit) {
    return examples.stream()
        .filter(which)
        .sorted(Comparator.comparingDouble(Example::confidence).reversed().thenComparing(Example::path))
        .limit(limit)
        .toList();
  }

  private static void assertSameExamples(List<Example> actual, List<Example> expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i).path()).isEqualTo(expected.get(i).path());
      assertThat(actual.get(i).trueIndex()).isEqualTo(expected.get(i).trueIndex());
      assertThat(actual.get(i).probabilities()).containsExactly(expected.get(i).probabilities());
    }
  }

  /** The large path equals the small one; returns {loss diff, AUC diff, max bin-mean diff, binned ROC area - AUC}. */
  private static double[] assertSamePaths(ClassificationMetrics small, ClassificationMetrics large) {
    assertThat(large.n()).isEqualTo(small.n());
    assertThat(large.classNames()).isEqualTo(small.classNames());
    assertThat(large.accuracy()).isEqualTo(small.accuracy());
    assertThat(large.confusionMatrix()).isDeepEqualTo(small.confusionMatrix());
    assertThat(large.perClass()).isEqualTo(small.perClass());
    assertThat(large.loss()).isCloseTo(small.loss(), within(1e-12));
    assertThat(large.auc().isPresent()).isEqualTo(small.auc().isPresent());
    double aucDiff = 0;
    if (small.auc().isPresent()) {
      aucDiff = Math.abs(large.auc().getAsDouble() - small.auc().getAsDouble());
      assertThat(aucDiff).isLessThan(1e-9);
    }

    List<CalibrationBin> smallBins = small.reliability();
    List<CalibrationBin> largeBins = large.reliability();
    assertThat(smallBins).isEqualTo(Curves.reliability(small.examples(), ClassificationMetrics.CALIBRATION_BINS));
    assertThat(largeBins).hasSameSizeAs(smallBins);
    double meanDiff = 0;
    for (int b = 0; b < smallBins.size(); b++) {
      CalibrationBin s = smallBins.get(b);
      CalibrationBin l = largeBins.get(b);
      assertThat(l.lower()).isEqualTo(s.lower());
      assertThat(l.upper()).isEqualTo(s.upper());
      assertThat(l.count()).isEqualTo(s.count());
      assertThat(l.observed()).isEqualTo(s.observed());
      meanDiff = Math.max(meanDiff, Math.abs(l.meanPredicted() - s.meanPredicted()));
    }
    assertThat(meanDiff).isLessThan(1e-9);
    assertThat(Curves.expectedCalibrationError(largeBins))
        .isCloseTo(Curves.expectedCalibrationError(smallBins), within(1e-9));

    double areaDiff = 0;
    if (small.classNames().size() == 2 && small.auc().isPresent()) {
      List<RocPoint> exact = small.rocCurve();
      assertThat(exact).isEqualTo(Curves.roc(small.examples(), 1));
      List<RocPoint> binned = large.rocCurve();
      assertThat(binned.get(0)).isEqualTo(new RocPoint(0, 0));
      assertThat(binned.get(binned.size() - 1)).isEqualTo(new RocPoint(1, 1));
      for (int i = 1; i < binned.size(); i++) {
        assertThat(binned.get(i).falsePositiveRate()).isGreaterThanOrEqualTo(binned.get(i - 1).falsePositiveRate());
        assertThat(binned.get(i).truePositiveRate()).isGreaterThanOrEqualTo(binned.get(i - 1).truePositiveRate());
      }
      assertThat(binned.size()).isLessThanOrEqualTo(2 * ClassificationMetrics.ROC_BINS + 10);
      areaDiff = Curves.area(binned) - small.auc().getAsDouble();
      assertThat(Math.abs(areaDiff)).isLessThan(1e-3);
    } else {
      assertThat(small.rocCurve()).isEmpty();
      assertThat(large.rocCurve()).isEmpty();
    }

    // bounded: the kept mistakes, then the kept correct predictions, as the report picks them
    assertThat(large.examples().size()).isLessThanOrEqualTo(2 * KEPT);
    List<Example> mistakes = top(small.examples(), e -> !e.correct(), KEPT);
    List<Example> correct = top(small.examples(), Example::correct, KEPT);
    List<Example> expected = new ArrayList<>(mistakes);
    expected.addAll(correct);
    assertSameExamples(large.examples(), expected);
    return new double[] {Math.abs(large.loss() - small.loss()), aucDiff, meanDiff, areaDiff};
  }

  private static void report(String what, ClassificationMetrics small, double[] diffs) {
    System.out.printf(
        Locale.ROOT,
        "%s: n=%d accuracy=%.6f auc=%s |loss diff|=%.3g |auc diff|=%.3g max |bin mean diff|=%.3g binned ROC area - auc=%.3g%n",
        what, small.n(), small.accuracy(), small.auc(), diffs[0], diffs[1], diffs[2], diffs[3]);
  }

  @Test
  void binaryWithTiesIsTheSameOnBothPaths() {
    ClassificationMetrics[] m = bothPaths(binary(3000, 11, true), BINARY);
    double[] diffs = assertSamePaths(m[0], m[1]);
    report("binary, ties", m[0], diffs);
    // at most 21 distinct scores: the curve is not binned, it has the exact one's points
    // (MLlib's ends with (1, 1) once more)
    assertThat(m[1].rocCurve()).containsAll(m[0].rocCurve());
    assertThat(Curves.area(m[1].rocCurve())).isCloseTo(m[0].auc().getAsDouble(), within(1e-12));
  }

  @Test
  void binaryWithDistinctScoresHasABinnedRocCurve() {
    ClassificationMetrics[] m = bothPaths(binary(4000, 12, false), BINARY);
    double[] diffs = assertSamePaths(m[0], m[1]);
    report("binary, distinct scores", m[0], diffs);
    assertThat(m[0].rocCurve().size()).isGreaterThan(3000);
    assertThat(m[1].rocCurve().size()).isLessThan(m[0].rocCurve().size());
  }

  @Test
  void threeClassesWithTiesAreTheSameOnBothPaths() {
    ClassificationMetrics[] m = bothPaths(three(3000, 13), THREE);
    double[] diffs = assertSamePaths(m[0], m[1]);
    report("three classes, ties", m[0], diffs);
    assertThat(m[1].examples()).hasSize(2 * KEPT);
  }

  @Test
  void anAbsentClassLeavesTheAucAndRocCurveOutOnBothPaths() {
    List<Row> rows = new ArrayList<>();
    Random random = new Random(14);
    for (int i = 0; i < 500; i++) {
      double s = Math.round(random.nextDouble() * 20) / 20.0;
      rows.add(RowFactory.create(path(i), 0, new double[] {1 - s, s}));
    }
    ClassificationMetrics[] binary = bothPaths(scored(rows), BINARY);
    assertSamePaths(binary[0], binary[1]);
    assertThat(binary[1].auc()).isEmpty();

    ClassificationMetrics[] three = bothPaths(three(600, 15).filter("label_index < 2"), THREE);
    assertSamePaths(three[0], three[1]);
    assertThat(three[1].auc()).isEmpty();
  }

  @Test
  void withoutPathsTheExamplesHaveEmptyPaths() {
    Dataset<Row> scored = binary(400, 16, false).drop(Columns.PATH);
    ClassificationMetrics small = ClassificationMetrics.fromPredictions(scored, BINARY);
    ClassificationMetrics large = ClassificationMetrics.fromPredictions(scored, BINARY, 10, KEPT);
    assertThat(large.examples()).hasSize(2 * KEPT).allSatisfy(e -> assertThat(e.path()).isEmpty());
    assertThat(large.confusionMatrix()).isDeepEqualTo(small.confusionMatrix());
    // distinct confidences: the same top examples without paths to break ties
    assertThat(large.examples().get(0).probabilities())
        .containsExactly(top(small.examples(), e -> !e.correct(), 1).get(0).probabilities());
  }

  @Test
  void theReportDrawsTheCurvesOfTheLargePath() {
    ClassificationMetrics large = ClassificationMetrics.fromPredictions(binary(1000, 17, false), BINARY, 100, KEPT);
    RunReport report = new RunReport("r").evaluation("Validation", large, null, 4);
    // confusion matrix, ROC curve, reliability diagram; thumbnails of 4 + 4 examples without images
    assertThat(report.plotCount()).isEqualTo(3);
    assertThat(report.html()).contains("alt=\"ROC curve\"", "alt=\"reliability diagram\"");
    assertThat(report.html().split("<div class=\"missing\">", -1).length - 1).isEqualTo(8);
  }

  @Test
  void badRowsGetTheSameMessagesOnBothPaths() {
    List<Row> good = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      good.add(RowFactory.create(path(i), i % 2, new double[] {0.3, 0.7}));
    }
    assertRejected(good, RowFactory.create("bad", null, new double[] {0.3, 0.7}),
        "Column label_index has null values; metrics need labeled rows.");
    assertRejected(good, RowFactory.create("bad", 1, null),
        "Column probabilities has null values; score every row first.");
    assertRejected(good, RowFactory.create("bad", 1, new Double[] {0.3, null}),
        "Column probabilities holds arrays with null elements.");
    assertRejected(good, RowFactory.create("bad", 1, new double[] {0.3, 0.6, 0.1}),
        "Column probabilities must hold 2 values (one per class of [cat, dog]) but 1 row(s) hold another number (lengths from 2 to 3).");
    assertRejected(good, RowFactory.create("bad", -1, new double[] {0.3, 0.7}),
        "Column label_index must be in [0, 2) for classes [cat, dog] but 1 row(s) are outside it (values from -1 to 1).");
    assertRejected(good, RowFactory.create("bad", 1, new double[] {Double.NaN, 0.7}),
        "Column probabilities holds non-finite values (NaN or infinite) in 1 row(s).");
    assertRejected(good, RowFactory.create("bad", 0, new double[] {Double.NEGATIVE_INFINITY, 0.7}),
        "Column probabilities holds non-finite values (NaN or infinite) in 1 row(s).");
    // a null label comes first whatever else is wrong
    assertRejected(good, RowFactory.create("bad", null, new double[] {Double.NaN}),
        "Column label_index has null values; metrics need labeled rows.");
    assertThatThrownBy(() -> ClassificationMetrics.fromPredictions(scored(List.of()), BINARY, 0, KEPT))
        .hasMessage("Cannot compute metrics of an empty set.");
  }

  private void assertRejected(List<Row> good, Row bad, String message) {
    List<Row> rows = new ArrayList<>(good);
    rows.add(bad);
    Dataset<Row> scored = scored(rows);
    assertThatThrownBy(() -> ClassificationMetrics.fromPredictions(scored, BINARY)).hasMessage(message);
    assertThatThrownBy(() -> ClassificationMetrics.fromPredictions(scored, BINARY, 5, KEPT)).hasMessage(message);
  }
}
