package io.bottleneck.job;

import java.util.Map;
import picocli.CommandLine.Option;

/** The run date of the commands that write run partitions of tables: pipeline, evaluate, predict ({@code @Mixin}). */
final class RunDateOption {
  @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = "Run date, the table partition with the run id; default today in UTC (key: run-date).")
  String runDate;

  /** The option as a configuration key, as {@link JobCommand#options} puts it. */
  void options(Map<String, Object> keys) {
    keys.put("run-date", runDate);
  }
}
