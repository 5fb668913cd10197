package io.bottleneck.ml;

import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Schema checks {@link DenseHeadClassifier} and {@link DenseHeadClassificationModel} share. */
final class DenseHeadParams {
  private DenseHeadParams() {}

  static final String FEATURES_DOC = "features: a Vector (ImageFeaturizer's output) or array<float>";
  static final String LABEL_DOC = "labels: class names (string) or class indexes (numeric)";
  static final String PREDICTION_DOC = "output: the predicted class index (double)";
  static final String PROBABILITY_DOC = "output: the probability of each class (Vector), in labels() order";
  static final String PREDICTED_LABEL_DOC = "output: the predicted class name (string)";

  /** Fails unless {@code name} is a Vector or array&lt;float|double&gt; column. */
  static void requireFeatures(StructType schema, String name) {
    DataType type = columnType(schema, name);
    if (!isVector(type) && !(type instanceof ArrayType a && (a.elementType().equals(DataTypes.FloatType)
        || a.elementType().equals(DataTypes.DoubleType)))) {
      throw new IllegalArgumentException("Column " + name + " must be of type "
          + SQLDataTypes.VectorType().catalogString() + " (a Vector) or array<float> but was actually "
          + type.catalogString() + ".");
    }
  }

  static boolean isVector(DataType type) {
    return type.equals(SQLDataTypes.VectorType());
  }

  /** The type of column {@code name}; fails naming the available ones when it is missing. */
  static DataType columnType(StructType schema, String name) {
    if (!List.of(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException("Column " + name + " does not exist. Available: "
          + String.join(", ", schema.fieldNames()));
    }
    return schema.apply(name).dataType();
  }

  /** Fails if {@code name} is a column of {@code schema} already. */
  static void requireAbsent(StructType schema, String name) {
    if (List.of(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException("Output column " + name + " already exists.");
    }
  }
}
