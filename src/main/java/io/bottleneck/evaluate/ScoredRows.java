package io.bottleneck.evaluate;

import static org.apache.spark.sql.functions.array_max;
import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.try_element_at;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.evaluate.ClassificationMetrics.Example;
import io.bottleneck.evaluate.Curves.CalibrationBin;
import io.bottleneck.evaluate.Curves.RocPoint;
import io.bottleneck.io.Columns;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * The executor side of {@link ClassificationMetrics#fromPredictions}, over rows of
 * {@code label_index, probabilities, path} (path null when the set has none): the one aggregation
 * that counts and checks them, and the metrics, curves and examples of a set too large to collect.
 * What reaches the driver is bounded by the number of classes and the bins and examples asked for,
 * not by the number of rows.
 */
final class ScoredRows {
  private static final String TRUE = "t";
  private static final String PREDICTED = "q";
  private static final String LOSS = "loss";
  private static final String BIN = "bin";
  private static final String SCORE = "score";

  private ScoredRows() {}

  /**
   * Of checked rows: their number, confusion matrix (rows true, columns predicted), sum of the
   * clipped cross-entropy, and the reliability diagram ({@link Curves#reliability} of them all).
   */
  record Totals(long n, long[][] confusion, double lossSum, List<CalibrationBin> reliability) {
    long correct() {
      long correct = 0;
      for (int c = 0; c < confusion.length; c++) {
        correct += confusion[c][c];
      }
      return correct;
    }
  }

  private static Column label() {
    return col(Columns.LABEL_INDEX);
  }

  private static Column probabilities() {
    return col(Columns.PROBABILITIES);
  }

  /** The first argmax, 0-based, as {@link Example#predictedIndex()}: array_max, then its first position. */
  private static Column predicted() {
    return array_position(probabilities(), array_max(probabilities())).cast("int").minus(1);
  }

  /** The first argmax, 0-based, as {@link Example#predictedIndex()}. */
  private static int predicted(double[] p) {
    int best = 0;
    for (int c = 1; c < p.length; c++) {
      if (p[c] > p[best]) {
        best = c;
      }
    }
    return best;
  }

  /**
   * Checks {@code rows} (null labels, null arrays, null elements, then lengths other than the
   * number of classes, labels outside the classes and non-finite probabilities, each an {@link
   * IllegalArgumentException}) and totals them, in one pass on the executors: per partition a
   * {@link Tally}, summed. What reaches the driver is one tally per partition.
   */
  static Totals totals(Dataset<Row> rows, List<String> names, int bins) {
    int k = names.size();
    return rows.javaRDD()
        .mapPartitions(
            (java.util.Iterator<Row> it) -> {
              Tally t = new Tally(k, bins);
              it.forEachRemaining(t::add);
              return List.of(t).iterator();
            })
        .fold(new Tally(k, bins), Tally::plus) // fold: a set may have no partition
        .totals(names);
  }

  /** As above, of rows already on the driver. */
  static Totals totals(List<Row> rows, List<String> names, int bins) {
    Tally t = new Tally(names.size(), bins);
    rows.forEach(t::add);
    return t.totals(names);
  }

  /** Running totals and check counts of rows (label_index, probabilities, path). */
  static final class Tally implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    private final int k;
    private final int bins;
    private long n;
    /** null labels, null arrays, null elements, wrong lengths, labels out of range, non-finite. */
    private final long[] checks = new long[6];
    private Integer minLabel;
    private Integer maxLabel;
    private Integer minLength;
    private Integer maxLength;
    private final long[][] confusion;
    private double lossSum;
    private final long[] binCount;
    private final double[] binScore;
    private final long[] binHappened;

    Tally(int k, int bins) {
      this.k = k;
      this.bins = bins;
      confusion = new long[k][k];
      binCount = new long[bins];
      binScore = new double[bins];
      binHappened = new long[bins];
    }

    void add(Row r) {
      Integer y = r.isNullAt(0) ? null : r.getInt(0);
      List<Double> values = r.isNullAt(1) ? null : r.getList(1);
      boolean nullElement = false;
      boolean nonFinite = false;
      if (values != null) {
        for (Double v : values) {
          nullElement |= v == null;
          nonFinite |= v != null && !Double.isFinite(v);
        }
        minLength = minLength == null ? values.size() : Math.min(minLength, values.size());
        maxLength = maxLength == null ? values.size() : Math.max(maxLength, values.size());
      }
      if (y != null) {
        minLabel = minLabel == null ? y : Math.min(minLabel, y);
        maxLabel = maxLabel == null ? y : Math.max(maxLabel, y);
      }
      boolean wrongLength = values != null && values.size() != k;
      boolean outOfRange = y != null && (y < 0 || y >= k);
      boolean[] failed = {y == null, values == null, nullElement, wrongLength, outOfRange, nonFinite};
      boolean valid = true;
      for (int c = 0; c < failed.length; c++) {
        if (failed[c]) {
          checks[c]++;
          valid = false;
        }
      }
      if (!valid) {
        return;
      }
      double[] p = new double[k];
      for (int c = 0; c < k; c++) {
        p[c] = values.get(c);
      }
      int q = predicted(p);
      n++;
      confusion[y][q]++;
      lossSum += ClassificationMetrics.logLoss(p[y]);
      // as Curves.reliability: class 1's probability for two classes, else the confidence
      double score = k == 2 ? p[1] : p[q];
      int bin = Math.min(bins - 1, (int) Math.floor(score * bins));
      if (bin >= 0) {
        binCount[bin]++;
        binScore[bin] += score;
        if (k == 2 ? y == 1 : y == q) {
          binHappened[bin]++;
        }
      }
    }

    Tally plus(Tally o) {
      Tally sum = new Tally(k, bins);
      sum.n = n + o.n;
      for (int c = 0; c < checks.length; c++) {
        sum.checks[c] = checks[c] + o.checks[c];
      }
      sum.minLabel = min(minLabel, o.minLabel);
      sum.maxLabel = max(maxLabel, o.maxLabel);
      sum.minLength = min(minLength, o.minLength);
      sum.maxLength = max(maxLength, o.maxLength);
      for (int t = 0; t < k; t++) {
        for (int q = 0; q < k; q++) {
          sum.confusion[t][q] = confusion[t][q] + o.confusion[t][q];
        }
      }
      sum.lossSum = lossSum + o.lossSum;
      for (int b = 0; b < bins; b++) {
        sum.binCount[b] = binCount[b] + o.binCount[b];
        sum.binScore[b] = binScore[b] + o.binScore[b];
        sum.binHappened[b] = binHappened[b] + o.binHappened[b];
      }
      return sum;
    }

    private static Integer min(Integer a, Integer b) {
      return a == null ? b : b == null ? a : Integer.valueOf(Math.min(a, b));
    }

    private static Integer max(Integer a, Integer b) {
      return a == null ? b : b == null ? a : Integer.valueOf(Math.max(a, b));
    }

    /** The totals, or the first failed check as an exception naming the column. */
    Totals totals(List<String> names) {
      String l = Columns.LABEL_INDEX;
      String pr = Columns.PROBABILITIES;
      if (checks[0] > 0) {
        throw new IllegalArgumentException("Column " + l + " has null values; metrics need labeled rows.");
      }
      if (checks[1] > 0) {
        throw new IllegalArgumentException("Column " + pr + " has null values; score every row first.");
      }
      if (checks[2] > 0) {
        throw new IllegalArgumentException("Column " + pr + " holds arrays with null elements.");
      }
      if (checks[3] > 0) {
        throw new IllegalArgumentException(
            "Column " + pr + " must hold " + k + " values (one per class of " + names + ") but "
                + checks[3] + " row(s) hold another number (lengths from " + minLength + " to "
                + maxLength + ").");
      }
      if (checks[4] > 0) {
        throw new IllegalArgumentException(
            "Column " + l + " must be in [0, " + k + ") for classes " + names + " but " + checks[4]
                + " row(s) are outside it (values from " + minLabel + " to " + maxLabel + ").");
      }
      if (checks[5] > 0) {
        throw new IllegalArgumentException(
            "Column " + pr + " holds non-finite values (NaN or infinite) in " + checks[5] + " row(s).");
      }
      return new Totals(n, confusion, lossSum, Curves.calibrationBins(binCount, binScore, binHappened));
    }
  }

  /**
   * Metrics of checked rows without collecting them: the totals, the AUC (exact, from MLlib per
   * one-vs-rest class), class 1's ROC curve binned to about {@code rocBins} points (two classes),
   * and the {@code examplesKept} most confident mistakes and correct predictions.
   */
  static ClassificationMetrics metrics(
      Dataset<Row> rows, List<String> names, Totals totals, int examplesKept, int rocBins) {
    int k = names.size();
    boolean everyClassBothWays = true;
    for (int c = 0; c < k; c++) {
      long support = 0;
      for (long x : totals.confusion()[c]) {
        support += x;
      }
      everyClassBothWays &= support > 0 && support < totals.n();
    }
    Double auc = null;
    List<RocPoint> roc = List.of();
    if (k == 2 && everyClassBothWays) {
      auc = areaUnderRoc(rows, 1);
      roc = binnedRoc(rows, 1, rocBins);
    } else if (everyClassBothWays) {
      double sum = 0;
      for (int c = 0; c < k; c++) {
        sum += areaUnderRoc(rows, c);
      }
      auc = sum / k;
    }
    List<Example> examples = new ArrayList<>(mostConfident(rows, false, examplesKept));
    examples.addAll(mostConfident(rows, true, examplesKept));
    return new ClassificationMetrics(
        names, totals.n(), totals.correct(), totals.lossSum(), totals.confusion(), auc, examples, false, roc,
        totals.reliability());
  }

  /** (probability of {@code positive}, 1 when the true class is {@code positive} else 0) per row. */
  private static JavaRDD<Tuple2<Object, Object>> scoreAndLabels(Dataset<Row> rows, int positive) {
    return rows.select(
            try_element_at(probabilities(), lit(positive + 1)),
            when(label().equalTo(positive), 1.0).otherwise(0.0))
        .javaRDD()
        .map(r -> new Tuple2<>(r.get(0), r.get(1)));
  }

  /** ROC-AUC of {@code positive} against the rest, exact (no binning; ties count half). */
  private static double areaUnderRoc(Dataset<Row> rows, int positive) {
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(scoreAndLabels(rows, positive).rdd(), 0);
    try {
      return m.areaUnderROC();
    } finally {
      m.unpersist();
    }
  }

  /** ROC curve of {@code positive} from (0, 0) to (1, 1), its scores grouped into about {@code bins} bins. */
  private static List<RocPoint> binnedRoc(Dataset<Row> rows, int positive, int bins) {
    BinaryClassificationMetrics m = new BinaryClassificationMetrics(scoreAndLabels(rows, positive).rdd(), bins);
    try {
      List<RocPoint> points = new ArrayList<>();
      for (Tuple2<Object, Object> point : m.roc().toJavaRDD().collect()) {
        points.add(new RocPoint((Double) point._1(), (Double) point._2()));
      }
      return points;
    } finally {
      m.unpersist();
    }
  }

  /**
   * The {@code limit} correct (or wrong) predictions of highest confidence, then path, as the
   * report's grids order them; chosen on the executors (top-k per partition, then merged).
   */
  private static List<Example> mostConfident(Dataset<Row> rows, boolean correct, int limit) {
    Column confidence = array_max(probabilities());
    Column isCorrect = predicted().equalTo(label());
    List<Example> examples = new ArrayList<>();
    for (Row r :
        rows.filter(correct ? isCorrect : not(isCorrect))
            .orderBy(confidence.desc(), coalesce(col(Columns.PATH), lit("")).asc())
            .limit(limit)
            .collectAsList()) {
      examples.add(example(r));
    }
    return examples;
  }

  /** The example of one checked row (label_index, probabilities, path); a null path is "". */
  static Example example(Row row) {
    List<Double> p = row.getList(1);
    double[] probabilities = new double[p.size()];
    for (int c = 0; c < probabilities.length; c++) {
      probabilities[c] = p.get(c);
    }
    return new Example(row.isNullAt(2) ? "" : row.getString(2), row.getInt(0), probabilities);
  }
}
