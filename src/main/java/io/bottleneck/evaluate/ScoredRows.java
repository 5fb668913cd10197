package io.bottleneck.evaluate;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array_max;
import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.exists;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
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

  /**
   * One aggregation over {@code rows}, grouped by (true, predicted) class: checks them (null
   * labels, null arrays, null elements, then lengths other than the number of classes, labels
   * outside the classes and non-finite probabilities, each an {@link IllegalArgumentException})
   * and totals them. At most (classes + 1)² groups reach the driver.
   */
  static Totals totals(Dataset<Row> rows, List<String> names, int bins) {
    int k = names.size();
    Column y = label();
    Column p = probabilities();
    Column nullElement = coalesce(exists(p, Column::isNull), lit(false));
    Column nonFinite =
        coalesce(exists(p, x -> isnan(x).or(abs(x).equalTo(lit(Double.POSITIVE_INFINITY)))), lit(false));
    Column wrongLength = p.isNotNull().and(size(p).notEqual(k));
    Column outOfRange = y.isNotNull().and(y.lt(0).or(y.geq(k)));
    Column valid =
        y.isNotNull().and(p.isNotNull()).and(not(nullElement)).and(not(wrongLength))
            .and(not(outOfRange)).and(not(nonFinite));
    // element_at is 1-based and fails on 0: the index only for labels in range
    Column trueProbability = try_element_at(p, when(y.geq(0).and(y.lt(k)), y.plus(1)));
    Column loss = log(least(lit(1.0), greatest(lit(ClassificationMetrics.EPSILON), trueProbability))).multiply(-1);
    // as Curves.reliability: class 1's probability for two classes, else the confidence
    Column score = k == 2 ? try_element_at(p, lit(2)) : array_max(p);
    Column bin = least(lit(bins - 1), floor(score.multiply(bins)).cast("int"));
    Dataset<Row> derived =
        rows.select(
            when(valid, y).as(TRUE),
            when(valid, predicted()).as(PREDICTED),
            when(valid, loss).as(LOSS),
            when(valid, bin).as(BIN),
            when(valid, score).as(SCORE),
            y.isNull().cast("int").as("null_label"),
            p.isNull().cast("int").as("null_probabilities"),
            nullElement.cast("int").as("null_element"),
            wrongLength.cast("int").as("wrong_length"),
            outOfRange.cast("int").as("out_of_range"),
            nonFinite.cast("int").as("non_finite"),
            y.as("label"),
            when(p.isNotNull(), size(p)).as("length"));
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(sum(LOSS)); // 3
    for (String check :
        List.of("null_label", "null_probabilities", "null_element", "wrong_length", "out_of_range", "non_finite")) {
      aggregates.add(sum(check)); // 4..9
    }
    aggregates.add(min("label")); // 10
    aggregates.add(max("label"));
    aggregates.add(min("length")); // 12
    aggregates.add(max("length"));
    for (int b = 0; b < bins; b++) { // 14 + 2b, 15 + 2b
      Column in = col(BIN).equalTo(b);
      aggregates.add(sum(when(in, 1L).otherwise(0L)));
      aggregates.add(sum(when(in, col(SCORE)).otherwise(0.0)));
    }
    List<Row> groups =
        derived
            .groupBy(TRUE, PREDICTED)
            .agg(count(lit(1)), aggregates.toArray(new Column[0]))
            .collectAsList();

    long n = 0;
    long[] checks = new long[6];
    Integer minLabel = null;
    Integer maxLabel = null;
    Integer minLength = null;
    Integer maxLength = null;
    long[][] confusion = new long[k][k];
    double lossSum = 0;
    long[] binCount = new long[bins];
    double[] binScore = new double[bins];
    long[] binHappened = new long[bins];
    for (Row g : groups) {
      for (int c = 0; c < checks.length; c++) {
        checks[c] += g.getLong(4 + c);
      }
      minLabel = g.isNullAt(10) ? minLabel : minLabel == null ? g.getInt(10) : Math.min(minLabel, g.getInt(10));
      maxLabel = g.isNullAt(11) ? maxLabel : maxLabel == null ? g.getInt(11) : Math.max(maxLabel, g.getInt(11));
      minLength = g.isNullAt(12) ? minLength : minLength == null ? g.getInt(12) : Math.min(minLength, g.getInt(12));
      maxLength = g.isNullAt(13) ? maxLength : maxLength == null ? g.getInt(13) : Math.max(maxLength, g.getInt(13));
      if (g.isNullAt(0)) {
        continue; // rows that fail a check
      }
      int t = g.getInt(0);
      int q = g.getInt(1);
      long rowsInGroup = g.getLong(2);
      n += rowsInGroup;
      confusion[t][q] += rowsInGroup;
      lossSum += g.getDouble(3);
      boolean event = k == 2 ? t == 1 : t == q;
      for (int b = 0; b < bins; b++) {
        long inBin = g.getLong(14 + 2 * b);
        binCount[b] += inBin;
        binScore[b] += g.getDouble(15 + 2 * b);
        if (event) {
          binHappened[b] += inBin;
        }
      }
    }
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
