package io.bottleneck.warehouse;

import io.bottleneck.evaluate.ClassificationMetrics;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import scala.collection.JavaConverters;

/**
 * A run's evaluation as one row of the metrics table: the headline numbers as columns (queried
 * directly) and the per-class numbers as a map keyed by class name ({@code per_class['cat'].recall}),
 * so the table's columns do not depend on the model's classes.
 */
public final class MetricsRows {
  public static final StructType CLASS_METRICS =
      new StructType()
          .add("precision", DataTypes.DoubleType, false)
          .add("recall", DataTypes.DoubleType, false)
          .add("f1", DataTypes.DoubleType, false)
          .add("support", DataTypes.LongType, false);

  /** The columns before the partition columns (run_date, run_id). */
  public static final StructType SCHEMA =
      new StructType()
          .add("model_id", DataTypes.StringType)
          .add("command", DataTypes.StringType)
          .add("input", DataTypes.StringType)
          .add("n", DataTypes.LongType)
          .add("accuracy", DataTypes.DoubleType)
          .add("loss", DataTypes.DoubleType)
          .add("auc", DataTypes.DoubleType)
          .add("per_class", DataTypes.createMapType(DataTypes.StringType, CLASS_METRICS))
          .add("evaluated_at", DataTypes.TimestampType);

  private MetricsRows() {}

  /**
   * @param command pipeline (validation split) or evaluate (the evaluated images)
   * @param input the images evaluated
   */
  public static Dataset<Row> of(
      SparkSession spark, ClassificationMetrics metrics, String modelId, String command, String input, Timestamp at) {
    Map<String, Row> perClass = new LinkedHashMap<>();
    for (ClassificationMetrics.ClassMetrics m : metrics.perClass()) {
      perClass.put(m.name(), RowFactory.create(m.precision(), m.recall(), m.f1(), m.support()));
    }
    Row row =
        RowFactory.create(
            modelId,
            command,
            input,
            metrics.n(),
            metrics.accuracy(),
            metrics.loss(),
            metrics.auc().isPresent() ? metrics.auc().getAsDouble() : null,
            JavaConverters.mapAsScalaMap(perClass),
            at);
    return spark.createDataFrame(List.of(row), SCHEMA);
  }
}
