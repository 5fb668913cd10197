package io.bottleneck.predict;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import io.bottleneck.train.HeadSnapshot;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batch inference with a trained head, in the manner of BigDL's NNModel: the head is broadcast
 * once, each partition runs fixed-size mini-batches, and the outputs are appended to the rows
 * (which keep all their columns) instead of zipping RDDs.
 */
public final class HeadScorer {
  private HeadScorer() {}

  /**
   * Appends {@code probabilities} (array&lt;double&gt;, in {@code classNames} order) and
   * {@code prediction} (the argmax class name) to every row of {@code featured}. Lazy like any
   * transformation; inference mode, so dropout is off and the result is deterministic.
   */
  public static Dataset<Row> score(
      Dataset<Row> featured, MultiLayerNetwork head, List<String> classNames, int batchSize) {
    return score(featured, head, classNames, batchSize, List.of());
  }

  /**
   * As {@link #score(Dataset, MultiLayerNetwork, List, int)}, with test-time augmentation: the
   * probabilities are the mean of the head's outputs on {@code features} and on each column of
   * {@code viewColumns} (features of other views of the same image, e.g. its mirror image).
   */
  public static Dataset<Row> score(
      Dataset<Row> featured,
      MultiLayerNetwork head,
      List<String> classNames,
      int batchSize,
      List<String> viewColumns) {
    return score(featured, head, classNames, batchSize, Columns.FEATURES, viewColumns, Columns.PROBABILITIES,
        Columns.PREDICTION);
  }

  /**
   * As {@link #score(Dataset, MultiLayerNetwork, List, int, List)} with the column names given:
   * the features (array&lt;float&gt;) in {@code featuresColumn}, the output in {@code
   * probabilitiesColumn} and {@code predictionColumn}.
   */
  public static Dataset<Row> score(
      Dataset<Row> featured,
      MultiLayerNetwork head,
      List<String> classNames,
      int batchSize,
      String featuresColumn,
      List<String> viewColumns,
      String probabilitiesColumn,
      String predictionColumn) {
    StructType schema = featured.schema();
    Schemas.requireColumn(schema, featuresColumn, DataTypes.createArrayType(DataTypes.FloatType));
    for (String view : viewColumns) {
      Schemas.requireColumn(schema, view, DataTypes.createArrayType(DataTypes.FloatType));
    }
    Schemas.requireAbsent(schema, probabilitiesColumn);
    Schemas.requireAbsent(schema, predictionColumn);
    if (head == null) {
      throw new IllegalArgumentException("head must not be null");
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1 but was " + batchSize);
    }
    if (classNames == null
        || classNames.stream().anyMatch(Objects::isNull)
        || new HashSet<>(classNames).size() != classNames.size()) {
      throw new IllegalArgumentException(
          "classNames must be distinct and non-null but was " + classNames);
    }
    HeadSnapshot snapshot = HeadSnapshot.of(head);
    if (snapshot.numClasses() != classNames.size()) {
      throw new IllegalArgumentException(
          "The head has " + snapshot.numClasses() + " outputs but " + classNames.size()
              + " class names were given: " + classNames);
    }

    StructType out =
        schema
            .add(probabilitiesColumn, DataTypes.createArrayType(DataTypes.DoubleType, false), false)
            .add(predictionColumn, DataTypes.StringType, false);
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(featured.sparkSession().sparkContext());
    Broadcast<HeadSnapshot> broadcast = sc.broadcast(snapshot);
    int[] featureColumns = new int[1 + viewColumns.size()];
    featureColumns[0] = schema.fieldIndex(featuresColumn);
    for (int i = 0; i < viewColumns.size(); i++) {
      featureColumns[i + 1] = schema.fieldIndex(viewColumns.get(i));
    }
    String[] names = classNames.toArray(new String[0]);
    String[] columnNames = schema.fieldNames();
    MapPartitionsFunction<Row, Row> scorer =
        rows -> new ScoringIterator(rows, broadcast.value(), featureColumns, columnNames, names, batchSize);
    return featured.mapPartitions(scorer, Encoders.row(out));
  }

  /** Pulls up to batchSize rows, scores them in one forward pass, hands them out, repeats. */
  private static final class ScoringIterator implements Iterator<Row> {
    private final Iterator<Row> input;
    private final HeadSnapshot snapshot;
    private final int[] featureColumns;
    private final String[] columnNames;
    private final String[] classNames;
    private final int batchSize;
    private final int inputSize;
    private MultiLayerNetwork network;
    private List<Row> ready = List.of();
    private int next;

    ScoringIterator(
        Iterator<Row> input,
        HeadSnapshot snapshot,
        int[] featureColumns,
        String[] columnNames,
        String[] classNames,
        int batchSize) {
      this.input = input;
      this.snapshot = snapshot;
      this.featureColumns = featureColumns;
      this.columnNames = columnNames;
      this.classNames = classNames;
      this.batchSize = batchSize;
      this.inputSize = snapshot.inputSize();
    }

    @Override
    public boolean hasNext() {
      if (next < ready.size()) {
        return true;
      }
      if (!input.hasNext()) {
        return false;
      }
      scoreNextBatch();
      return true;
    }

    @Override
    public Row next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      return ready.get(next++);
    }

    private void scoreNextBatch() {
      List<Row> batch = new ArrayList<>(batchSize);
      while (batch.size() < batchSize && input.hasNext()) {
        batch.add(input.next());
      }
      if (network == null) {
        // One network per task: MultiLayerNetwork is not thread-safe, tasks share the broadcast.
        network = snapshot.restore();
      }
      double[][] probabilities = null;
      for (int column : featureColumns) {
        float[] flat = new float[batch.size() * inputSize];
        for (int i = 0; i < batch.size(); i++) {
          copyFeatures(batch.get(i), column, flat, i * inputSize);
        }
        INDArray features = Nd4j.create(flat, new long[] {batch.size(), inputSize}, DataType.FLOAT);
        double[][] view = network.output(features, false).toDoubleMatrix();
        if (probabilities == null) {
          probabilities = view;
        } else {
          for (int i = 0; i < view.length; i++) {
            for (int c = 0; c < view[i].length; c++) {
              probabilities[i][c] += view[i][c];
            }
          }
        }
      }
      if (featureColumns.length > 1) {
        for (double[] row : probabilities) {
          for (int c = 0; c < row.length; c++) {
            row[c] /= featureColumns.length;
          }
        }
      }
      List<Row> scored = new ArrayList<>(batch.size());
      for (int i = 0; i < batch.size(); i++) {
        scored.add(append(batch.get(i), probabilities[i]));
      }
      ready = scored;
      next = 0;
    }

    private void copyFeatures(Row row, int column, float[] into, int offset) {
      String name = columnNames[column];
      if (row.isNullAt(column)) {
        throw new IllegalArgumentException(
            "Column " + name + " is null in a row; featurize every row before scoring.");
      }
      List<Float> values = row.getList(column);
      if (values.size() != inputSize) {
        throw new IllegalArgumentException(
            "Column " + name + " has " + values.size() + " values in a row but the head"
                + " takes " + inputSize + "; were the features made by another base model?");
      }
      for (int j = 0; j < inputSize; j++) {
        Float v = values.get(j);
        if (v == null) {
          throw new IllegalArgumentException(
              "Column " + name + " holds a null element in a row.");
        }
        into[offset + j] = v;
      }
    }

    private Row append(Row row, double[] probabilities) {
      int argmax = 0;
      for (int c = 1; c < probabilities.length; c++) {
        if (probabilities[c] > probabilities[argmax]) {
          argmax = c;
        }
      }
      Object[] values = new Object[row.size() + 2];
      for (int i = 0; i < row.size(); i++) {
        values[i] = row.get(i);
      }
      values[row.size()] = probabilities;
      values[row.size() + 1] = classNames[argmax];
      return RowFactory.create(values);
    }
  }
}
