package io.bottleneck.job;

import java.util.Map;
import picocli.CommandLine.Option;

/**
 * The JDBC database that pipeline and predict also write batch predictions to ({@code @Mixin});
 * stream's --jdbc-url describes its rejects table too, so it declares its own.
 */
final class JdbcUrlOption {
  @Option(names = "--jdbc-url", paramLabel = "URL", description = "Also write the predictions to this JDBC database, user and password from the config file or BOTTLENECK_JDBC_USER/BOTTLENECK_JDBC_PASSWORD (key: predict.jdbc.url).")
  String jdbcUrl;

  /** The option as a configuration key, as {@link JobCommand#options} puts it. */
  void options(Map<String, Object> keys) {
    keys.put("predict.jdbc.url", jdbcUrl);
  }
}
