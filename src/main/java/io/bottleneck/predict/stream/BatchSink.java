package io.bottleneck.predict.stream;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * A target of the streaming predictions (a folder, a catalog table, a JDBC table) and its
 * rejects. Writes are idempotent by (run_id, batch_id): writing a micro-batch again, as Spark
 * does after a crash before the batch was committed, replaces that batch's rows.
 */
public interface BatchSink {
  /** What the progress log and the report call the target (no credentials). */
  String describe();

  /**
   * Before the query starts: fails with a message naming the target when it exists with another
   * layout than rows of these schemas.
   */
  void check(StructType predictions, StructType rejects) throws Exception;

  /** Whether the target holds rows of {@code runId} (predictions or rejects). */
  boolean hasRun(String runId) throws Exception;

  /** Replaces the batch's rows (both datasets hold only that run id and batch id). */
  void write(Dataset<Row> predictions, Dataset<Row> rejects, String runId, long batchId) throws Exception;
}
