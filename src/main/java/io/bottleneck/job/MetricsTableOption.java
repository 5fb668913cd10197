package io.bottleneck.job;

import java.util.Map;
import picocli.CommandLine.Option;

/** The catalog table of run metrics that pipeline and evaluate write ({@code @Mixin}). */
final class MetricsTableOption {
  @Option(names = "--metrics-table", paramLabel = "NAME", description = "Catalog table for the run's metrics, e.g. db.metrics (key: metrics.table).")
  String metricsTable;

  /** The option as a configuration key, as {@link JobCommand#options} puts it. */
  void options(Map<String, Object> keys) {
    keys.put("metrics.table", metricsTable);
  }
}
