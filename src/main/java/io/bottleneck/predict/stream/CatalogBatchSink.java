package io.bottleneck.predict.stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.warehouse.CatalogTables;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A catalog table partitioned by (run_id, batch_id) and its rejects table {@code <table>_rejects}:
 * a batch's write is a dynamic partition overwrite of its partition, so written again it
 * replaces itself.
 */
public final class CatalogBatchSink implements BatchSink {
  private final SparkSession spark;
  private final String table;
  private final String rejectsTable;

  public CatalogBatchSink(SparkSession spark, String table) {
    this.spark = spark;
    this.table = table;
    this.rejectsTable = table + "_rejects";
  }

  public String rejectsTable() {
    return rejectsTable;
  }

  @Override
  public String describe() {
    return "table " + table;
  }

  @Override
  public void check(StructType predictions, StructType rejects) {
    CatalogTables.requireCompatible(spark, table, predictions, StreamRows.KEY);
    CatalogTables.requireCompatible(spark, rejectsTable, rejects, StreamRows.KEY);
  }

  @Override
  public boolean hasRun(String runId) {
    for (String t : new String[] {table, rejectsTable}) {
      if (spark.catalog().tableExists(t) && !spark.table(t).where(col(PredictionWriter.RUN_ID).equalTo(lit(runId))).isEmpty()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void write(Dataset<Row> predictions, Dataset<Row> rejects, String runId, long batchId) {
    CatalogTables.replacePartitions(spark, predictions, table, StreamRows.KEY);
    CatalogTables.replacePartitions(spark, rejects, rejectsTable, StreamRows.KEY);
  }
}
