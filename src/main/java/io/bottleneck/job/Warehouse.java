package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.warehouse.CatalogTables;
import io.bottleneck.warehouse.JdbcTarget;
import io.bottleneck.warehouse.MetricsRows;
import io.bottleneck.warehouse.RunPartition;
import java.sql.Timestamp;
import java.time.Instant;
import org.apache.spark.sql.SparkSession;

/** The warehouse side of the commands: the metrics table and the JDBC target, from the configuration. */
final class Warehouse {
  private Warehouse() {}

  /** Writes the run's row of the metrics table when metrics.table is set. */
  static void writeMetrics(
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

  static JdbcTarget jdbcTarget(JobConfig cfg) {
    return new JdbcTarget(cfg.jdbcUrl, cfg.jdbcTable, cfg.jdbcUser, cfg.jdbcPassword);
  }

  /** Before Spark starts: a JDBC write needs prediction rows, so it needs something to predict. */
  static void requireJdbcWithPredictions(JobConfig cfg, boolean predicts) {
    if (!cfg.jdbcUrl.isEmpty() && !predicts) {
      throw new ConfigError("--jdbc-url (key bottleneck.predict.jdbc.url) writes predictions: also give --predict-input");
    }
  }
}
