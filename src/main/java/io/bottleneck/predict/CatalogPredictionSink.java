package io.bottleneck.predict;

import io.bottleneck.warehouse.CatalogTables;
import io.bottleneck.warehouse.RunPartition;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** A catalog table partitioned by (run_date, run_id): a run's write replaces its partition. */
public final class CatalogPredictionSink implements PredictionSink {
  private final SparkSession spark;
  private final String table;

  public CatalogPredictionSink(SparkSession spark, String table) {
    this.spark = spark;
    this.table = table;
  }

  @Override
  public int lookupRank() {
    return 0;
  }

  @Override
  public Dataset<Row> existingHashes(String modelId, String runId) {
    return ExistingPredictions.inTable(spark, table, modelId, runId);
  }

  @Override
  public void write(Dataset<Row> rows, RunPartition partition) {
    CatalogTables.replaceRunPartition(spark, rows, table, partition);
  }
}
