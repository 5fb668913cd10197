package io.bottleneck.predict;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Schemas;
import io.bottleneck.warehouse.JdbcRunTable;
import io.bottleneck.warehouse.JdbcTarget;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What a prediction target already holds, for {@code predict --skip-existing}: the content
 * hashes it has rows of for a model id, from runs other than the current one (a re-run of a run
 * id replaces its rows, so it must predict its own images again).
 */
public final class ExistingPredictions {
  private static final StructType HASHES = new StructType().add(Columns.CONTENT_HASH, DataTypes.StringType);

  private ExistingPredictions() {}

  /** {@code images} without those whose content hash is in {@code hashes}. */
  public static Dataset<Row> withoutExisting(Dataset<Row> images, Dataset<Row> hashes) {
    return images.join(hashes.distinct(), images.col(Columns.CONTENT_HASH).equalTo(hashes.col(Columns.CONTENT_HASH)),
        "left_anti");
  }

  /** From a catalog table; none when the table does not exist. */
  public static Dataset<Row> inTable(SparkSession spark, String table, String modelId, String runId) {
    if (!spark.catalog().tableExists(table)) {
      return spark.createDataFrame(List.of(), HASHES);
    }
    return select(spark.table(table), "Table " + table, modelId, runId);
  }

  /** From the prediction files under {@code output} (Parquet or CSV with a header); none when there are none. */
  public static Dataset<Row> inFiles(SparkSession spark, String output, String format, String modelId, String runId)
      throws IOException {
    if (!HadoopFiles.hasData(output, spark.sparkContext().hadoopConfiguration())) {
      return spark.createDataFrame(List.of(), HASHES);
    }
    Dataset<Row> files =
        format.equals("csv") ? spark.read().option("header", "true").csv(output) : spark.read().parquet(output);
    return select(files, "Folder " + output, modelId, runId);
  }

  /** From a JDBC table; none when the table does not exist. */
  public static Dataset<Row> inJdbc(SparkSession spark, JdbcTarget target, String modelId, String runId)
      throws SQLException {
    List<String> hashes =
        JdbcRunTable.distinctValues(target, Columns.CONTENT_HASH, PredictionWriter.MODEL_ID, modelId, runId);
    return spark.createDataset(hashes, Encoders.STRING()).toDF(Columns.CONTENT_HASH);
  }

  private static Dataset<Row> select(Dataset<Row> rows, String what, String modelId, String runId) {
    if (!Schemas.hasColumn(rows.schema(), Columns.CONTENT_HASH)) {
      throw new IllegalStateException(
          what + " has no column " + Columns.CONTENT_HASH + " (written before predictions carried it), so"
              + " --skip-existing cannot tell which images it holds: write to a new target");
    }
    return rows.where(col(PredictionWriter.MODEL_ID).equalTo(lit(modelId))
            .and(col(PredictionWriter.RUN_ID).notEqual(lit(runId))))
        .select(col(Columns.CONTENT_HASH).cast("string"))
        .distinct();
  }
}
