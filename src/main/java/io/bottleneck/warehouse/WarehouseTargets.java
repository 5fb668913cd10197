package io.bottleneck.warehouse;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import java.sql.Timestamp;
import java.time.Instant;
import org.apache.spark.sql.SparkSession;

/** The warehouse targets the configuration names: the metrics table and the JDBC table of predictions. */
public final class WarehouseTargets {
  private WarehouseTargets() {}

  /** Writes the run's row of the metrics table when metrics.table is set. */
  public static void writeMetrics(
      SparkSession spark, JobConfig cfg, ClassificationMetrics metrics, String modelId, String command, String input) {
    if (cfg.metricsTable.isEmpty()) {
      return;
    }
    CatalogTables.replaceRunPartition(
        spark,
        MetricsRows.of(spark, metrics, modelId, command, input, Timestamp.from(Instant.now())),
        cfg.metricsTable,
        new RunPartition(cfg.runDate, cfg.runId));
  }

  /** The JDBC table of predictions (predict.jdbc.*), credentials included; only when predict.jdbc.url is set. */
  public static JdbcTarget jdbcTarget(JobConfig cfg) {
    return new JdbcTarget(cfg.jdbcUrl, cfg.jdbcTable, cfg.jdbcUser, cfg.jdbcPassword);
  }
}
