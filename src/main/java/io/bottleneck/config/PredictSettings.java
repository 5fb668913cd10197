package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

/**
 * The predict.* keys, read and checked: the output format, the catalog table, the batch size and
 * the optional JDBC copy. The JDBC user and password fall back to {@link JobConfig#JDBC_USER_ENV}
 * and {@link JobConfig#JDBC_PASSWORD_ENV} when the configuration leaves them empty.
 *
 * @param format parquet or csv
 * @param table empty: no catalog table
 * @param jdbcUrl empty: no JDBC write
 * @param jdbcTable predict.jdbc.table, else predict.table without its database, else predictions
 * @param jdbcPassword never logged or printed ({@link #toString} masks it)
 */
record PredictSettings(
    String format,
    String table,
    int batchSize,
    String jdbcUrl,
    String jdbcTable,
    String jdbcUser,
    String jdbcPassword) {

  static PredictSettings read(ConfigValues v) {
    String format = v.string("predict.format");
    if (!format.equals("parquet") && !format.equals("csv")) {
      throw invalid("predict.format", format, "parquet or csv");
    }
    String table = v.tableName("predict.table", "predictions");
    int batchSize = v.positive("predict.batch-size");
    String jdbcUrl = v.string("predict.jdbc.url");
    if (!jdbcUrl.isEmpty() && !jdbcUrl.startsWith("jdbc:")) {
      throw invalid("predict.jdbc.url", jdbcUrl, "a JDBC URL such as jdbc:postgresql://host:5432/db");
    }
    String jdbcTable = v.tableName("predict.jdbc.table", "predictions");
    if (jdbcTable.isEmpty()) {
      jdbcTable = table.isEmpty() ? "predictions" : table.substring(table.indexOf('.') + 1);
    }
    String jdbcUser = ConfigValues.orEnvironment(v.string("predict.jdbc.user"), JobConfig.JDBC_USER_ENV);
    String jdbcPassword =
        ConfigValues.orEnvironment(v.string("predict.jdbc.password"), JobConfig.JDBC_PASSWORD_ENV);
    return new PredictSettings(format, table, batchSize, jdbcUrl, jdbcTable, jdbcUser, jdbcPassword);
  }

  @Override
  public String toString() {
    return "PredictSettings[format=" + format + ", table=" + table + ", batchSize=" + batchSize
        + ", jdbcUrl=" + jdbcUrl + ", jdbcTable=" + jdbcTable + ", jdbcUser=" + jdbcUser
        + ", jdbcPassword=" + (jdbcPassword.isEmpty() ? "" : "***") + "]";
  }
}
