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

  /** The rows of {@code data} (features array&lt;float&gt;, label_index int), indexed in order. */
  static JavaRDD<Example> fromRows(Dataset<Row> data) {
    return data.select(Columns.FEATURES, Columns.LABEL_INDEX)
        .javaRDD()
        .zipWithIndex()
        .map(
            t -> {
              List<Float> values = t._1().getList(0);
              float[] features = new float[values.size()];
              for (int i = 0; i < features.length; i++) {
                features[i] = values.get(i);
              }
              return new Example(t._2(), features, t._1().getInt(1));
            });
  }
}
