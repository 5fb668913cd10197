package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;

/**
 * The training input of one or more fits, checked, converted to {@link Example}s and persisted
 * (on-heap float arrays, which Spark sizes correctly; disk rather than recomputation, so the row
 * indices the shuffle relies on never change). It exists apart from the training loop so that
 * {@link HeadSearch} checks, converts and caches its input once for all trials. Closing
 * unpersists.
 */
final class TrainingInput implements AutoCloseable {
  final JavaRDD<Example> train;
  final long trainRows;
  /** Training rows per label index, counted on the persisted rows. */
  final long[] classCounts;
  /** Null when there are no validation rows. */
  final JavaRDD<Example> validation;
  final int inputSize;
  final int numClasses;

  private TrainingInput(
      JavaRDD<Example> train, long[] classCounts, JavaRDD<Example> validation, int inputSize,
      int numClasses) {
    this.train = train;
    this.classCounts = classCounts;
    long rows = 0;
    for (long c : classCounts) {
      rows += c;
    }
    this.trainRows = rows;
    this.validation = validation;
    this.inputSize = inputSize;
    this.numClasses = numClasses;
  }

  /**
   * Checks {@code train} (features array&lt;float&gt;, label_index int in [0, numClasses)) and
   * {@code validation} (null or empty: none), then persists both as examples.
   */
  static TrainingInput prepare(Dataset<Row> train, Dataset<Row> validation, int numClasses) {
    Objects.requireNonNull(train, "train");
    requireInputSchema(train);
    if (validation != null) {
      requireInputSchema(validation);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("numClasses must be >= 2 but was " + numClasses);
    }

    Summary[] summaries = Summary.of(train, validation, numClasses);
    Summary trainSummary = summaries[0];
    if (trainSummary.rows == 0) {
      throw new IllegalArgumentException(
          "The training set is empty: the head needs at least one row with "
              + Columns.FEATURES + " and " + Columns.LABEL_INDEX + ".");
    }
    int inputSize = trainSummary.featureLength;
    boolean hasValidation = false;
    if (validation != null) {
      Summary v = summaries[1];
      if (v.rows > 0 && v.featureLength != inputSize) {
        throw new IllegalArgumentException(
            "Column " + Columns.FEATURES + " has length " + v.featureLength
                + " in the validation set but " + inputSize + " in the training set.");
      }
      hasValidation = v.rows > 0;
    }

    JavaRDD<Example> trainExamples = Example.fromRows(train).persist(StorageLevel.MEMORY_AND_DISK());
    JavaRDD<Example> validationExamples =
        hasValidation ? Example.fromRows(validation).persist(StorageLevel.MEMORY_AND_DISK()) : null;
    try {
      // Counting what was cached (not the summary's count) keeps n and the indices consistent
      // even if the input is not deterministic.
      long[] counts =
          trainExamples.aggregate(new long[numClasses], TrainingInput::countLabel, TrainingInput::addCounts);
      return new TrainingInput(trainExamples, counts, validationExamples, inputSize, numClasses);
    } catch (RuntimeException e) {
      trainExamples.unpersist(false);
      if (validationExamples != null) {
        validationExamples.unpersist(false);
      }
      throw e;
    }
  }

  private static void requireInputSchema(Dataset<Row> data) {
    Schemas.requireColumn(
        data.schema(), Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType));
    Schemas.requireColumn(data.schema(), Columns.LABEL_INDEX, DataTypes.IntegerType);
  }

  private static long[] countLabel(long[] counts, Example e) {
    counts[e.label]++;
    return counts;
  }

  private static long[] addCounts(long[] a, long[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  boolean hasValidation() {
    return validation != null;
  }

  @Override
  public void close() {
    train.unpersist(false);
    if (validation != null) {
      validation.unpersist(false);
    }
  }

  /** Row count and what the checks need, per input, with messages. */
  private static final class Summary {
    private static final String SET = "__set";
    final long rows;
    final int featureLength;

    private Summary(long rows, int featureLength) {
      this.rows = rows;
      this.featureLength = featureLength;
    }

    /**
     * The training set's summary and the validation set's (no rows when null), from one
     * aggregation over both; the training set's problems are reported first.
     */
    static Summary[] of(Dataset<Row> train, Dataset<Row> validation, int numClasses) {
      String f = Columns.FEATURES;
      String l = Columns.LABEL_INDEX;
      Dataset<Row> both = train.select(col(f), col(l), lit(0).as(SET));
      if (validation != null) {
        both = both.union(validation.select(col(f), col(l), lit(1).as(SET)));
      }
      Row[] bySet = new Row[2];
      for (Row r :
          both.groupBy(SET)
              .agg(
                  count(lit(1)),
                  sum(when(col(f).isNull(), 1).otherwise(0)),
                  sum(when(col(l).isNull(), 1).otherwise(0)),
                  sum(when(expr("exists(`" + f + "`, x -> x IS NULL OR isnan(x))"), 1).otherwise(0)),
                  min(when(col(f).isNotNull(), size(col(f)))),
                  max(when(col(f).isNotNull(), size(col(f)))),
                  min(col(l)),
                  max(col(l)))
              .collectAsList()) {
        bySet[r.getInt(0)] = r;
      }
      return new Summary[] {
        of(bySet[0], "training set", numClasses), of(bySet[1], "validation set", numClasses)
      };
    }

    /** {@code grouped}: the set's row of the aggregation (set, count, ...), null without rows. */
    private static Summary of(Row grouped, String what, int numClasses) {
      if (grouped == null) {
        return new Summary(0, 0);
      }
      String f = Columns.FEATURES;
      String l = Columns.LABEL_INDEX;
      long rows = grouped.getLong(1);
      if (rows == 0) {
        return new Summary(0, 0);
      }
      if (grouped.getLong(2) > 0) {
        throw new IllegalArgumentException(
            "Column " + f + " has " + grouped.getLong(2) + " null values in the " + what + ".");
      }
      if (grouped.getLong(3) > 0) {
        throw new IllegalArgumentException(
            "Column " + l + " has " + grouped.getLong(3) + " null values in the " + what + ".");
      }
      if (grouped.getLong(4) > 0) {
        throw new IllegalArgumentException(
            "Column " + f + " has " + grouped.getLong(4) + " vectors with null or NaN elements in the "
                + what + ".");
      }
      int minLength = grouped.getInt(5);
      int maxLength = grouped.getInt(6);
      if (minLength != maxLength) {
        throw new IllegalArgumentException(
            "Column " + f + " must hold vectors of one length, but lengths range from " + minLength
                + " to " + maxLength + " in the " + what + ".");
      }
      if (maxLength == 0) {
        throw new IllegalArgumentException("Column " + f + " holds empty vectors in the " + what + ".");
      }
      int minLabel = grouped.getInt(7);
      int maxLabel = grouped.getInt(8);
      if (minLabel < 0 || maxLabel >= numClasses) {
        throw new IllegalArgumentException(
            "Column " + l + " must be in [0, " + numClasses + ") for " + numClasses
                + " classes but ranges from " + minLabel + " to " + maxLabel + " in the " + what
                + ".");
      }
      return new Summary(rows, maxLength);
    }
  }
}
