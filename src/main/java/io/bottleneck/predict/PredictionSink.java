package io.bottleneck.predict;

import io.bottleneck.config.JobConfig;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.warehouse.RunPartition;
import io.bottleneck.warehouse.WarehouseTargets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A target of batch predictions ({@link BatchPredictions}, the predict and pipeline commands): a
 * folder of files, a catalog table or a JDBC table. A run's write replaces that run's rows, so a
 * re-run of a run id leaves one copy. The streaming twin, keyed by (run_id, batch_id), is
 * {@link io.bottleneck.predict.stream.BatchSink}.
 *
 * <p>Adding a target: one implementation, and one line in {@link #configured}.
 */
public interface PredictionSink {
  /**
   * The sinks the configuration names, in the order they are written: files under
   * {@code output}, the catalog table {@code table}, the JDBC table of predict.jdbc.*.
   *
   * @param output a qualified URI, or empty for no files
   * @param table a catalog table, or empty for none
   */
  static List<PredictionSink> configured(SparkSession spark, JobConfig cfg, String output, String table) {
    List<PredictionSink> sinks = new ArrayList<>();
    if (!output.isEmpty()) {
      sinks.add(new FilePredictionSink(spark, output, cfg.predictFormat));
    }
    if (!table.isEmpty()) {
      sinks.add(new CatalogPredictionSink(spark, table));
    }
    if (!cfg.jdbcUrl.isEmpty()) {
      sinks.add(new JdbcPredictionSink(spark, WarehouseTargets.jdbcTarget(cfg)));
    }
    return sinks;
  }

  /**
   * Which sink {@code --skip-existing} asks when several are configured: the lowest rank (the
   * catalog table 0, then the JDBC table 1, then the files 2, the order the option documents).
   */
  int lookupRank();

  /**
   * The content hashes this target holds predictions of by {@code modelId} from runs other than
   * {@code runId} (see {@link ExistingPredictions}); none when the target does not exist yet.
   *
   * @throws IllegalStateException when the target cannot tell (rows written without content_hash)
   */
  Dataset<Row> existingHashes(String modelId, String runId) throws Exception;

  /** Replaces the run's rows in the target with {@code rows} (the published prediction rows). */
  void write(Dataset<Row> rows, RunPartition partition) throws Exception;

  /** Keeps the ingest's rejected files of the run where this target keeps them; most keep none. */
  default void writeRejects(IngestResult ingested, String runId) {}
}
