package io.bottleneck.evaluate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.evaluate.Curves.CalibrationBin;
import io.bottleneck.evaluate.Curves.RocPoint;
import io.bottleneck.io.Columns;
import io.bottleneck.io.Json;
import io.bottleneck.io.Schemas;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * Classification metrics of one labeled, scored set, with sklearn's definitions: precision,
 * recall and F1 are 0 where undefined ({@code zero_division=0}), the loss is {@code log_loss} with
 * probabilities clipped to [1e-15, 1], and the AUC equals {@code roc_auc_score} (ties get their
 * average rank). Immutable.
 *
 * <p>The metrics are exact whatever the size of the set. The examples are all kept when the set
 * has at most {@link #COLLECT_LIMIT} rows; above it, {@link #fromPredictions} keeps only the
 * {@link #EXAMPLES_KEPT} most confident mistakes and as many most confident correct predictions
 * (see {@link #examplesComplete()}), and its ROC curve is binned.
 */
public final class ClassificationMetrics {
  /** Lower clip of a probability in the loss, as sklearn's historical {@code log_loss} eps. */
  public static final double EPSILON = 1e-15;

  /** Most scored rows {@link #fromPredictions} collects to the driver (all examples kept). */
  public static final long COLLECT_LIMIT = 100_000;

  /** Above the collect limit: most confident mistakes kept, and as many correct predictions. */
  public static final int EXAMPLES_KEPT = 1_000;

  /** Above the collect limit: about how many points the ROC curve is binned to. */
  public static final int ROC_BINS = 1_000;

  /** Uniform bins of the reliability diagram ({@link #reliability()}). */
  public static final int CALIBRATION_BINS = 10;

  /** Precision, recall, F1 and support of one class. */
  public record ClassMetrics(String name, double precision, double recall, double f1, long support) {}

  /**
   * One scored example as the metrics saw it: its path (empty when the scored set had none),
   * true class index and probabilities in class order.
   */
  public record Example(String path, int trueIndex, double[] probabilities) {
    /** The first argmax, as the metrics count it. */
    public int predictedIndex() {
      int best = 0;
      for (int c = 1; c < probabilities.length; c++) {
        if (probabilities[c] > probabilities[best]) {
          best = c;
        }
      }
      return best;
    }

    /** Probability of the predicted class. */
    public double confidence() {
      return probabilities[predictedIndex()];
    }

    public boolean correct() {
      return predictedIndex() == trueIndex;
    }
  }

  private final List<String> classNames;
  private final long n;
  private final double accuracy;
  private final double loss;
  private final List<ClassMetrics> perClass;
  private final long[][] confusion;
  private final Double auc;
  private final List<Example> examples;
  private final boolean examplesComplete;
  private final List<RocPoint> roc;
  private final List<CalibrationBin> reliability;

  /**
   * {@code correct} and {@code lossSum} over the {@code n} examples; {@code roc}: class 1's ROC
   * curve for two classes, else empty; {@code reliability}: {@link #CALIBRATION_BINS} bins.
   */
  ClassificationMetrics(
      List<String> classNames,
      long n,
      long correct,
      double lossSum,
      long[][] confusion,
      Double auc,
      List<Example> examples,
      boolean examplesComplete,
      List<RocPoint> roc,
      List<CalibrationBin> reliability) {
    this.classNames = classNames;
    this.n = n;
    this.accuracy = (double) correct / n;
    this.loss = lossSum / n;
    this.perClass = perClass(classNames, confusion);
    this.confusion = confusion;
    this.auc = auc;
    this.examples = Collections.unmodifiableList(examples);
    this.examplesComplete = examplesComplete;
    this.roc = List.copyOf(roc);
    this.reliability = List.copyOf(reliability);
  }

  /** Cross-entropy of one example given the probability its true class received. */
  public static double logLoss(double probabilityOfTrueClass) {
    return -Math.log(Math.min(1.0, Math.max(EPSILON, probabilityOfTrueClass)));
  }

  /**
   * Metrics of {@code probabilities[i]} (one row per example, columns in {@code classNames} order)
   * against the true class {@code trueIndex[i]}. The predicted class is the first argmax.
   */
  public static ClassificationMetrics compute(
      List<String> classNames, int[] trueIndex, double[][] probabilities) {
    return compute(classNames, trueIndex, probabilities, null);
  }

  /** As above, remembering each example's path ({@code paths} may be null: no paths). */
  public static ClassificationMetrics compute(
      List<String> classNames, int[] trueIndex, double[][] probabilities, String[] paths) {
    List<String> names = checkClassNames(classNames);
    int k = names.size();
    if (trueIndex == null || probabilities == null) {
      throw new IllegalArgumentException("trueIndex and probabilities must not be null");
    }
    if (trueIndex.length != probabilities.length) {
      throw new IllegalArgumentException(
          "trueIndex has " + trueIndex.length + " entries but probabilities has "
              + probabilities.length + " rows");
    }
    int n = trueIndex.length;
    if (n == 0) {
      throw new IllegalArgumentException("Cannot compute metrics of an empty set.");
    }
    if (paths != null && paths.length != n) {
      throw new IllegalArgumentException("paths has " + paths.length + " entries but there are " + n + " examples");
    }
    List<Example> examples = new ArrayList<>(n);
    long[][] confusion = new long[k][k];
    double lossSum = 0;
    long correct = 0;
    for (int i = 0; i < n; i++) {
      int y = trueIndex[i];
      if (y < 0 || y >= k) {
        throw new IllegalArgumentException(
            "trueIndex[" + i + "] = " + y + " is outside [0, " + k + ") for classes " + names);
      }
      double[] p = probabilities[i];
      if (p == null || p.length != k) {
        throw new IllegalArgumentException(
            "probabilities[" + i + "] must have " + k + " values (one per class) but had "
                + (p == null ? "none" : p.length));
      }
      int predicted = 0;
      for (int c = 0; c < k; c++) {
        if (!Double.isFinite(p[c])) {
          throw new IllegalArgumentException(
              "probabilities[" + i + "] holds a non-finite value: " + Arrays.toString(p));
        }
        if (p[c] > p[predicted]) {
          predicted = c;
        }
      }
      confusion[y][predicted]++;
      if (predicted == y) {
        correct++;
      }
      lossSum += logLoss(p[y]);
      examples.add(new Example(paths == null || paths[i] == null ? "" : paths[i], y, p.clone()));
    }

    return new ClassificationMetrics(
        names,
        n,
        correct,
        lossSum,
        confusion,
        areaUnderRoc(trueIndex, probabilities, k),
        examples,
        true,
        k == 2 ? Curves.roc(examples, 1) : List.of(),
        Curves.reliability(examples, CALIBRATION_BINS));
  }

  /**
   * Metrics of a scored set: requires {@code label_index} (int) and {@code probabilities}
   * (array&lt;double&gt;, in {@code classNames} order), and uses {@code path} when the set has
   * one (the report shows examples by path). One aggregation on the executors counts the rows and
   * checks them; a set of at most {@link #COLLECT_LIMIT} rows is then collected (those three
   * columns) and computed as {@link #compute} does. A larger one is never collected: its metrics
   * are aggregated on the executors (exact, the AUC from MLlib's
   * {@code BinaryClassificationMetrics} without binning), its ROC curve is binned to about
   * {@link #ROC_BINS} points, and only the {@link #EXAMPLES_KEPT} most confident mistakes and
   * correct predictions are kept. The three columns are persisted (memory and disk) while the
   * metrics are computed, so the set is scored once.
   */
  public static ClassificationMetrics fromPredictions(Dataset<Row> scored, List<String> classNames) {
    return fromPredictions(scored, classNames, COLLECT_LIMIT, EXAMPLES_KEPT);
  }

  /** As above with the collect limit and the number of examples kept above it (for tests). */
  static ClassificationMetrics fromPredictions(
      Dataset<Row> scored, List<String> classNames, long collectLimit, int examplesKept) {
    Schemas.requireColumn(scored.schema(), Columns.LABEL_INDEX, DataTypes.IntegerType);
    Schemas.requireColumn(
        scored.schema(), Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));
    List<String> names = checkClassNames(classNames);
    boolean hasPath = Schemas.hasColumn(scored.schema(), Columns.PATH);
    Dataset<Row> rows =
        scored.select(
            col(Columns.LABEL_INDEX),
            col(Columns.PROBABILITIES),
            hasPath ? col(Columns.PATH) : lit(null).cast(DataTypes.StringType).as(Columns.PATH));
    rows.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      ScoredRows.Totals totals = ScoredRows.totals(rows, names, CALIBRATION_BINS);
      if (totals.n() <= collectLimit) {
        return collected(rows, names);
      }
      return ScoredRows.metrics(rows, names, totals, examplesKept, ROC_BINS);
    } finally {
      rows.unpersist(false);
    }
  }

  /** Every row of {@code rows} (label_index, probabilities, path; checked) on the driver. */
  private static ClassificationMetrics collected(Dataset<Row> rows, List<String> names) {
    List<Row> collected = rows.collectAsList();
    int n = collected.size();
    String[] paths = new String[n];
    int[] trueIndex = new int[n];
    double[][] probabilities = new double[n][];
    for (int i = 0; i < n; i++) {
      Example e = ScoredRows.example(collected.get(i));
      trueIndex[i] = e.trueIndex();
      probabilities[i] = e.probabilities();
      paths[i] = e.path();
    }
    return compute(names, trueIndex, probabilities, paths);
  }

  /** Precision, recall, F1 and support per class from the confusion matrix (sklearn's zero_division=0). */
  private static List<ClassMetrics> perClass(List<String> names, long[][] confusion) {
    int k = names.size();
    List<ClassMetrics> perClass = new ArrayList<>(k);
    for (int c = 0; c < k; c++) {
      long tp = confusion[c][c];
      long support = 0;
      long predictedAsC = 0;
      for (int j = 0; j < k; j++) {
        support += confusion[c][j];
        predictedAsC += confusion[j][c];
      }
      long fn = support - tp;
      long fp = predictedAsC - tp;
      double precision = ratio(tp, tp + fp);
      double recall = ratio(tp, tp + fn);
      // 2tp / (2tp + fp + fn) equals 2PR / (P + R) where defined, and is sklearn's formula.
      double f1 = ratio(2 * tp, 2 * tp + fp + fn);
      perClass.add(new ClassMetrics(names.get(c), precision, recall, f1, support));
    }
    return List.copyOf(perClass);
  }

  private static List<String> checkClassNames(List<String> classNames) {
    if (classNames == null || classNames.size() < 2) {
      throw new IllegalArgumentException(
          "classNames must name at least 2 classes but was " + classNames);
    }
    // List.of(...).contains(null) throws, hence the stream.
    if (classNames.stream().anyMatch(Objects::isNull)
        || new HashSet<>(classNames).size() != classNames.size()) {
      throw new IllegalArgumentException(
          "classNames must be distinct and non-null but was " + classNames);
    }
    return List.copyOf(classNames);
  }

  private static double ratio(long numerator, long denominator) {
    return denominator == 0 ? 0.0 : (double) numerator / denominator;
  }

  /**
   * Binary: AUC of class 1's probability, class 1 positive. More classes: the unweighted mean of
   * the one-vs-rest AUCs (sklearn {@code multi_class="ovr", average="macro"}). Null when a class
   * needed for it is absent from the true labels, as sklearn then raises.
   */
  private static Double areaUnderRoc(int[] trueIndex, double[][] probabilities, int k) {
    if (k == 2) {
      return binaryAuc(trueIndex, probabilities, 1);
    }
    double sum = 0;
    for (int c = 0; c < k; c++) {
      Double one = binaryAuc(trueIndex, probabilities, c);
      if (one == null) {
        return null;
      }
      sum += one;
    }
    return sum / k;
  }

  /** Mann-Whitney U / (nPos * nNeg) with average ranks for tied scores. */
  private static Double binaryAuc(int[] trueIndex, double[][] probabilities, int positive) {
    int n = trueIndex.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(probabilities[a][positive], probabilities[b][positive]));
    double positiveRankSum = 0;
    long positives = 0;
    int start = 0;
    while (start < n) {
      int end = start;
      double score = probabilities[order[start]][positive];
      while (end + 1 < n && probabilities[order[end + 1]][positive] == score) {
        end++;
      }
      // Ranks are 1-based; a tie group [start, end] shares the mean of its ranks.
      double averageRank = (start + end) / 2.0 + 1.0;
      for (int i = start; i <= end; i++) {
        if (trueIndex[order[i]] == positive) {
          positiveRankSum += averageRank;
          positives++;
        }
      }
      start = end + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return null;
    }
    double u = positiveRankSum - positives * (positives + 1) / 2.0;
    return u / ((double) positives * negatives);
  }

  public List<String> classNames() {
    return classNames;
  }

  public long n() {
    return n;
  }

  public double accuracy() {
    return accuracy;
  }

  /** Mean cross-entropy, probabilities clipped to [1e-15, 1]. */
  public double loss() {
    return loss;
  }

  /** ROC-AUC where defined (see {@link #compute}); empty when a class is missing from the labels. */
  public OptionalDouble auc() {
    return auc == null ? OptionalDouble.empty() : OptionalDouble.of(auc);
  }

  /** One entry per class, in class order. */
  public List<ClassMetrics> perClass() {
    return perClass;
  }

  /** Rows are true classes, columns predicted classes, both in class order (a copy). */
  public long[][] confusionMatrix() {
    long[][] copy = new long[confusion.length][];
    for (int i = 0; i < confusion.length; i++) {
      copy[i] = confusion[i].clone();
    }
    return copy;
  }

  /**
   * Every example, in input order, when {@link #examplesComplete()}; else the
   * {@link #EXAMPLES_KEPT} most confident mistakes, then as many most confident correct
   * predictions, each by confidence (descending), then path.
   */
  public List<Example> examples() {
    return examples;
  }

  /** Whether {@link #examples()} holds every example ({@link #n()} of them). */
  public boolean examplesComplete() {
    return examplesComplete;
  }

  /**
   * ROC curve of class 1 for two classes (empty when a class is absent from the labels, and for
   * more classes): {@link Curves#roc} of every example, or binned above the collect limit.
   */
  public List<RocPoint> rocCurve() {
    return roc;
  }

  /** Reliability diagram in {@link #CALIBRATION_BINS} bins ({@link Curves#reliability}), of every example. */
  public List<CalibrationBin> reliability() {
    return reliability;
  }

  /** Everything, pretty-printed. */
  public String toJson() {
    Map<String, Object> root = headline();
    if (auc == null) {
      root.put("auc", null);
    }
    root.put("classes", classNames);
    Map<String, Object> classes = new LinkedHashMap<>();
    for (ClassMetrics m : perClass) {
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("precision", m.precision());
      one.put("recall", m.recall());
      one.put("f1", m.f1());
      one.put("support", m.support());
      classes.put(m.name(), one);
    }
    root.put("per_class", classes);
    Map<String, Object> matrix = new LinkedHashMap<>();
    matrix.put("labels", classNames);
    matrix.put("matrix", confusion);
    root.put("confusion_matrix", matrix);
    return Json.pretty(root);
  }

  /** One line: accuracy, loss, n and, where defined, auc. */
  public String summaryJson() {
    return Json.oneLine(headline());
  }

  private Map<String, Object> headline() {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("accuracy", accuracy);
    root.put("loss", loss);
    root.put("n", n);
    if (auc != null) {
      root.put("auc", auc);
    }
    return root;
  }

  @Override
  public String toString() {
    return summaryJson();
  }
}
