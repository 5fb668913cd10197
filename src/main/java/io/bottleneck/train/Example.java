package io.bottleneck.train;

import io.bottleneck.io.Columns;
import java.io.Serializable;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * One labeled row as training reads it: the feature vector as a float array (which Spark sizes
 * correctly when it persists them) and the row's position in the persisted input, which is what
 * {@link EpochLayout}'s seeded shuffle permutes.
 */
final class Example implements Serializable {
  private static final long serialVersionUID = 1L;
  final long index;
  final float[] features;
  final int label;

  Example(long index, float[] features, int label) {
    this.index = index;
    this.features = features;
    this.label = label;
  }

  /** {@link #label} of a row whose label_index is null: {@link TrainingInput} reports such rows. */
  static final int NULL_LABEL = Integer.MIN_VALUE;

  /**
   * The rows of {@code data} (features array&lt;float&gt;, label_index int), indexed in order. A
   * null feature vector becomes a null {@link #features}, a null label {@link #NULL_LABEL}, so
   * that {@link TrainingInput} counts them in the pass that persists the examples.
   */
  static JavaRDD<Example> fromRows(Dataset<Row> data) {
    return data.select(Columns.FEATURES, Columns.LABEL_INDEX)
        .javaRDD()
        .zipWithIndex()
        .map(
            t -> {
              Row row = t._1();
              float[] features = null;
              if (!row.isNullAt(0)) {
                List<Float> values = row.getList(0);
                features = new float[values.size()];
                for (int i = 0; i < features.length; i++) {
                  Float v = values.get(i);
                  features[i] = v == null ? Float.NaN : v; // null elements are reported as NaN ones
                }
              }
              return new Example(t._2(), features, row.isNullAt(1) ? NULL_LABEL : row.getInt(1));
            });
  }
}
