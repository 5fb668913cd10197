package io.bottleneck.predict;

import io.bottleneck.warehouse.JdbcRunTable;
import io.bottleneck.warehouse.JdbcTarget;
import io.bottleneck.warehouse.RunPartition;
import java.sql.SQLException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** A JDBC table with run_date and run_id columns: a run's write replaces its rows in one transaction. */
public final class JdbcPredictionSink implements PredictionSink {
  private final SparkSession spark;
  private final JdbcTarget target;

  public JdbcPredictionSink(SparkSession spark, JdbcTarget target) {
    this.spark = spark;
    this.target = target;
  }

  @Override
  public int lookupRank() {
    return 1;
  }

  @Override
  public Dataset<Row> existingHashes(String modelId, String runId) throws SQLException {
    return ExistingPredictions.inJdbc(spark, target, modelId, runId);
  }

  @Override
  public void write(Dataset<Row> rows, RunPartition partition) throws SQLException {
    JdbcRunTable.replaceRun(partition.appendTo(rows), target, partition.runId());
  }
}
