package io.bottleneck.predict.stream;

import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.warehouse.JdbcRunTable;
import io.bottleneck.warehouse.JdbcTarget;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A JDBC table and its rejects table {@code <table>_rejects}: each batch's rows are replaced in
 * one transaction (delete the rows of (run_id, batch_id), insert the new ones), so a batch
 * written again replaces itself.
 */
public final class JdbcBatchSink implements BatchSink {
  private final JdbcTarget target;
  private final JdbcTarget rejectsTarget;

  public JdbcBatchSink(JdbcTarget target) {
    this.target = target;
    this.rejectsTarget = new JdbcTarget(target.url(), target.table() + "_rejects", target.user(), target.password());
  }

  public String rejectsTable() {
    return rejectsTarget.table();
  }

  @Override
  public String describe() {
    return "JDBC table " + target.table(); // not the URL: it may hold credentials
  }

  @Override
  public void check(StructType predictions, StructType rejects) throws Exception {
    JdbcRunTable.requireCompatible(target, predictions);
    JdbcRunTable.requireCompatible(rejectsTarget, rejects);
  }

  @Override
  public boolean hasRun(String runId) throws Exception {
    for (JdbcTarget t : new JdbcTarget[] {target, rejectsTarget}) {
      if (!JdbcRunTable.distinctValues(t, PredictionWriter.RUN_ID, PredictionWriter.RUN_ID, runId, "").isEmpty()) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void write(Dataset<Row> predictions, Dataset<Row> rejects, String runId, long batchId) throws Exception {
    Map<String, Object> key = new LinkedHashMap<>();
    key.put(PredictionWriter.RUN_ID, runId);
    key.put(StreamRows.BATCH_ID, batchId);
    JdbcRunTable.replaceRows(predictions, target, key);
    JdbcRunTable.replaceRows(rejects, rejectsTarget, key);
  }
}
