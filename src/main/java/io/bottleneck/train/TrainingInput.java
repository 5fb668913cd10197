package io.bottleneck.train;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.io.Serializable;
import java.util.Iterator;
import java.util.Collections;
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
  final long validationRows;
  final int inputSize;
  final int numClasses;

  private TrainingInput(
      JavaRDD<Example> train, long[] classCounts, JavaRDD<Example> validation, long validationRows,
      int inputSize, int numClasses) {
    this.train = train;
    this.classCounts = classCounts;
    long rows = 0;
    for (long c : classCounts) {
      rows += c;
    }
    this.trainRows = rows;
    this.validation = validation;
    this.validationRows = validationRows;
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
    JavaRDD<Example> trainExamples = Example.fromRows(train).persist(StorageLevel.MEMORY_AND_DISK());
    JavaRDD<Example> validationExamples =
        validation == null ? null : Example.fromRows(validation).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One job persists both sets and counts what the checks need on what was cached (so n and
      // the indices stay consistent even if the input is not deterministic).
      Tally[] tallies = Tally.of(trainExamples, validationExamples, numClasses);
      Tally trainTally = tallies[0];
      trainTally.check("training set", numClasses);
      if (trainTally.rows == 0) {
        throw new IllegalArgumentException(
            "The training set is empty: the head needs at least one row with "
                + Columns.FEATURES + " and " + Columns.LABEL_INDEX + ".");
      }
      int inputSize = trainTally.maxLength;
      Tally v = tallies[1];
      v.check("validation set", numClasses);
      if (v.rows > 0 && v.maxLength != inputSize) {
        throw new IllegalArgumentException(
            "Column " + Columns.FEATURES + " has length " + v.maxLength
                + " in the validation set but " + inputSize + " in the training set.");
      }
      if (validationExamples != null && v.rows == 0) {
        validationExamples.unpersist(false);
        validationExamples = null;
      }
      return new TrainingInput(trainExamples, trainTally.classCounts, validationExamples, v.rows, inputSize, numClasses);
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

  /** What the checks need, per set, counted on the persisted examples. */
  static final class Tally implements Serializable {
    private static final long serialVersionUID = 1L;
    long rows;
    long nullFeatures;
    long nullLabels;
    long nanVectors;
    int minLength = Integer.MAX_VALUE;
    int maxLength = -1;
    int minLabel = Integer.MAX_VALUE;
    int maxLabel = Integer.MIN_VALUE;
    /** Rows per label index, for labels in [0, numClasses). */
    final long[] classCounts;

    Tally(int numClasses) {
      classCounts = new long[numClasses];
    }

    /** The training set's tally and the validation set's (no rows when null), in one job. */
    static Tally[] of(JavaRDD<Example> train, JavaRDD<Example> validation, int numClasses) {
      int trainPartitions = train.getNumPartitions();
      JavaRDD<Example> both = validation == null ? train : train.union(validation);
      return both.mapPartitionsWithIndex(
              (Integer partition, Iterator<Example> rows) -> {
                Tally[] t = {new Tally(numClasses), new Tally(numClasses)};
                Tally tally = t[partition < trainPartitions ? 0 : 1];
                rows.forEachRemaining(tally::add);
                return Collections.singletonList(t).iterator(); // List.of(t) would spread the array
              },
              false)
          .reduce(Tally::plus);
    }

    private void add(Example e) {
      rows++;
      if (e.features == null) {
        nullFeatures++;
      } else {
        for (float x : e.features) {
          if (Float.isNaN(x)) {
            nanVectors++;
            break;
          }
        }
        minLength = Math.min(minLength, e.features.length);
        maxLength = Math.max(maxLength, e.features.length);
      }
      if (e.label == Example.NULL_LABEL) {
        nullLabels++;
        return;
      }
      minLabel = Math.min(minLabel, e.label);
      maxLabel = Math.max(maxLabel, e.label);
      if (e.label >= 0 && e.label < classCounts.length) {
        classCounts[e.label]++;
      }
    }

    private static Tally[] plus(Tally[] a, Tally[] b) {
      return new Tally[] {a[0].plus(b[0]), a[1].plus(b[1])};
    }

    private Tally plus(Tally o) {
      Tally sum = new Tally(classCounts.length);
      sum.rows = rows + o.rows;
      sum.nullFeatures = nullFeatures + o.nullFeatures;
      sum.nullLabels = nullLabels + o.nullLabels;
      sum.nanVectors = nanVectors + o.nanVectors;
      sum.minLength = Math.min(minLength, o.minLength);
      sum.maxLength = Math.max(maxLength, o.maxLength);
      sum.minLabel = Math.min(minLabel, o.minLabel);
      sum.maxLabel = Math.max(maxLabel, o.maxLabel);
      for (int i = 0; i < classCounts.length; i++) {
        sum.classCounts[i] = classCounts[i] + o.classCounts[i];
      }
      return sum;
    }

    /** Fails with a message naming the column and {@code what} set; a set without rows passes. */
    void check(String what, int numClasses) {
      if (rows == 0) {
        return;
      }
      String f = Columns.FEATURES;
      String l = Columns.LABEL_INDEX;
      if (nullFeatures > 0) {
        throw new IllegalArgumentException("Column " + f + " has " + nullFeatures + " null values in the " + what + ".");
      }
      if (nullLabels > 0) {
        throw new IllegalArgumentException("Column " + l + " has " + nullLabels + " null values in the " + what + ".");
      }
      if (nanVectors > 0) {
        throw new IllegalArgumentException(
            "Column " + f + " has " + nanVectors + " vectors with null or NaN elements in the " + what + ".");
      }
      if (minLength != maxLength) {
        throw new IllegalArgumentException(
            "Column " + f + " must hold vectors of one length, but lengths range from " + minLength
                + " to " + maxLength + " in the " + what + ".");
      }
      if (maxLength == 0) {
        throw new IllegalArgumentException("Column " + f + " holds empty vectors in the " + what + ".");
      }
      if (minLabel < 0 || maxLabel >= numClasses) {
        throw new IllegalArgumentException(
            "Column " + l + " must be in [0, " + numClasses + ") for " + numClasses
                + " classes but ranges from " + minLabel + " to " + maxLabel + " in the " + what
                + ".");
      }
    }
  }
}
