package io.bottleneck.warehouse;

import io.bottleneck.io.Columns;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's rows written to a JDBC table, idempotent per run id: the executors write the rows to
 * a fresh staging table (Spark JDBC, in parallel), then the driver, in ONE transaction, creates
 * the target if missing, deletes the run's earlier rows (or those of a finer key: a streaming
 * micro-batch's run_id and batch_id), copies the staging rows in and drops the
 * staging table. Readers see the run's old rows or its new rows, never both or a part; a failure
 * before the commit leaves the target as it was (and the staging table is dropped).
 */
public final class JdbcRunTable {
  private static final Logger LOG = LoggerFactory.getLogger(JdbcRunTable.class);

  private JdbcRunTable() {}

  /** Replaces the rows of run {@code runId} in the target table with {@code rows}. */
  public static void replaceRun(Dataset<Row> rows, JdbcTarget target, String runId) throws SQLException {
    replaceRows(rows, target, Map.of(RunPartition.RUN_ID, runId));
  }

  /**
   * Replaces the rows whose key columns hold {@code key}'s values (e.g. run_id and batch_id: a
   * streaming micro-batch) with {@code rows}, in one transaction: writing the same key again
   * replaces, never adds.
   *
   * @param key column name to value (a string or a number), every column among the rows'
   */
  public static void replaceRows(Dataset<Row> rows, JdbcTarget target, Map<String, Object> key) throws SQLException {
    if (List.of(rows.columns()).contains(Columns.CONTENT_HASH) && lacksContentHash(target)) {
      // a table created before prediction rows carried content_hash keeps its layout
      LOG.info("JDBC table {} predates the {} column: its rows are written without it", target.table(), Columns.CONTENT_HASH);
      rows = rows.drop(Columns.CONTENT_HASH);
    }
    StructType schema = rows.schema();
    List<String> columns = List.of(rows.columns());
    if (!columns.contains(RunPartition.RUN_ID) || !columns.containsAll(key.keySet())) {
      throw new IllegalArgumentException(
          "Rows for " + target.table() + " need a run_id column and the key columns " + key.keySet() + "; they have "
              + columns);
    }
    String columnsDdl = columnsDdl(schema); // checks the types before any work
    String staging = stagingName(target.table());
    try {
      rows.write().mode(SaveMode.ErrorIfExists).jdbc(target.url(), staging, target.connectionProperties());
      try (Connection connection = connect(target)) {
        swapIn(connection, target.table(), staging, columnsDdl, columns, new LinkedHashMap<>(new TreeMap<>(key)));
      }
    } catch (Exception e) { // Spark's job failures are checked SparkExceptions thrown from Scala
      dropStaging(target, staging, e);
      throw e;
    }
    LOG.info("Replaced rows {} in JDBC table {}", key, target.table()); // not the URL: it may hold credentials
  }

  /**
   * Before any write: fails, naming the table, if the target table exists with other columns
   * than rows of {@code schema}.
   *
   * @return whether the table exists
   */
  public static boolean requireCompatible(JdbcTarget target, StructType schema) throws SQLException {
    columnsDdl(schema);
    try (Connection connection = connect(target)) {
      if (!exists(connection, target.table())) {
        return false;
      }
      List<String> columns = new ArrayList<>(List.of(schema.fieldNames()));
      if (!tableColumns(connection, target.table()).contains(Columns.CONTENT_HASH)) {
        columns.remove(Columns.CONTENT_HASH); // an older table: written without it
      }
      requireColumns(connection, target.table(), columns);
      return true;
    }
  }

  /**
   * The distinct values of {@code column} in the rows where {@code where} equals {@code value}
   * and run_id differs from {@code exceptRunId}; empty when the table does not exist.
   *
   * @throws IllegalStateException when the table lacks {@code column}
   */
  public static List<String> distinctValues(
      JdbcTarget target, String column, String where, String value, String exceptRunId) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection connection = connect(target)) {
      if (!exists(connection, target.table())) {
        return values;
      }
      requireHasColumn(connection, target.table(), column);
      try (PreparedStatement s =
          connection.prepareStatement("SELECT DISTINCT " + column + " FROM " + target.table() + " WHERE " + where
              + " = ? AND " + RunPartition.RUN_ID + " <> ? AND " + column + " IS NOT NULL")) {
        s.setString(1, value);
        s.setString(2, exceptRunId);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            values.add(r.getString(1));
          }
        }
      }
    }
    return values;
  }

  private static boolean exists(Connection connection, String table) throws SQLException {
    // a savepoint-free probe: a failed SELECT would abort a PostgreSQL transaction, so autocommit
    try (Statement s = connection.createStatement()) {
      s.executeQuery("SELECT 1 FROM " + table + " WHERE 1 = 0").close();
      return true;
    } catch (SQLException e) {
      return false;
    }
  }

  private static void requireHasColumn(Connection connection, String table, String column) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Statement s = connection.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM " + table + " WHERE 1 = 0")) {
      ResultSetMetaData meta = r.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        names.add(meta.getColumnName(i).toLowerCase(Locale.ROOT));
      }
    }
    if (!names.contains(column.toLowerCase(Locale.ROOT))) {
      throw new IllegalStateException("JDBC table " + table + " has no column " + column + "; it has " + names);
    }
  }

  private static void swapIn(
      Connection connection, String table, String staging, String columnsDdl, List<String> columns,
      Map<String, Object> key) throws SQLException {
    connection.setAutoCommit(false);
    try (Statement s = connection.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS " + table + " (" + columnsDdl + ")");
      s.execute("CREATE INDEX IF NOT EXISTS " + indexName(table) + " ON " + table + " (" + RunPartition.RUN_ID + ")");
      requireColumns(connection, table, columns);
      if (isPostgres(connection)) {
        // serializes writers of this table, so two jobs writing one run id cannot both insert
        s.execute("LOCK TABLE " + table + " IN SHARE ROW EXCLUSIVE MODE");
      }
      int deleted;
      List<String> conditions = new ArrayList<>();
      key.keySet().forEach(c -> conditions.add(c + " = ?"));
      try (PreparedStatement delete =
          connection.prepareStatement("DELETE FROM " + table + " WHERE " + String.join(" AND ", conditions))) {
        int i = 1;
        for (Object value : key.values()) {
          delete.setObject(i++, value);
        }
        deleted = delete.executeUpdate();
      }
      String list = String.join(", ", columns);
      int inserted = s.executeUpdate("INSERT INTO " + table + " (" + list + ") SELECT " + list + " FROM " + staging);
      s.execute("DROP TABLE " + staging);
      connection.commit();
      LOG.info("JDBC table {}: {} had {} rows, now {}", table, key, deleted, inserted);
    } catch (Exception e) {
      connection.rollback();
      throw e;
    }
  }

  /** Explicit column types, so the table does not depend on a dialect's defaults. */
  static String columnsDdl(StructType schema) {
    List<String> columns = new ArrayList<>();
    for (StructField f : schema.fields()) {
      columns.add(f.name() + " " + sqlType(f) + (f.name().equals(RunPartition.RUN_ID) ? " NOT NULL" : ""));
    }
    return String.join(", ", columns);
  }

  private static String sqlType(StructField f) {
    DataType t = f.dataType();
    if (t.equals(DataTypes.StringType)) {
      return "TEXT";
    } else if (t.equals(DataTypes.DoubleType)) {
      return "DOUBLE PRECISION";
    } else if (t.equals(DataTypes.LongType)) {
      return "BIGINT";
    } else if (t.equals(DataTypes.IntegerType)) {
      return "INTEGER";
    } else if (t.equals(DataTypes.TimestampType)) {
      return "TIMESTAMP WITH TIME ZONE";
    } else if (t.equals(DataTypes.DateType)) {
      return "DATE";
    }
    throw new IllegalArgumentException(
        "Column " + f.name() + " has type " + t.catalogString()
            + ", which the JDBC table writer does not map (string, double, bigint, int, timestamp, date)");
  }

  /** Whether the target table exists without a content_hash column (created by an older version). */
  private static boolean lacksContentHash(JdbcTarget target) throws SQLException {
    try (Connection connection = connect(target)) {
      return exists(connection, target.table()) && !tableColumns(connection, target.table()).contains(Columns.CONTENT_HASH);
    }
  }

  /** The table's column names, lower case. */
  private static Set<String> tableColumns(Connection connection, String table) throws SQLException {
    Set<String> names = new HashSet<>();
    try (Statement s = connection.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM " + table + " WHERE 1 = 0")) {
      ResultSetMetaData meta = r.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        names.add(meta.getColumnName(i).toLowerCase(Locale.ROOT));
      }
    }
    return names;
  }

  private static void requireColumns(Connection connection, String table, List<String> columns) throws SQLException {
    Set<String> existing = new HashSet<>();
    List<String> ordered = new ArrayList<>();
    try (Statement s = connection.createStatement();
        ResultSet r = s.executeQuery("SELECT * FROM " + table + " WHERE 1 = 0")) {
      ResultSetMetaData meta = r.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        existing.add(meta.getColumnName(i).toLowerCase(Locale.ROOT));
        ordered.add(meta.getColumnName(i));
      }
    }
    if (!existing.equals(new HashSet<>(columns))) {
      throw new IllegalStateException(
          "JDBC table " + table + " has columns " + ordered + " but these rows have " + columns
              + "; write to a new table (key bottleneck.predict.jdbc.table), e.g. the model's classes differ");
    }
  }

  /** Next to the target (same schema), unique per write so concurrent jobs never share one. */
  static String stagingName(String table) {
    String suffix = "_staging_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    int dot = table.indexOf('.');
    String schema = dot < 0 ? "" : table.substring(0, dot + 1);
    String name = table.substring(dot + 1);
    // PostgreSQL truncates identifiers past 63 bytes
    return schema + name.substring(0, Math.min(name.length(), 63 - suffix.length())) + suffix;
  }

  private static String indexName(String table) {
    String name = table.substring(table.indexOf('.') + 1) + "_" + RunPartition.RUN_ID + "_idx";
    return name.length() <= 63 ? name : name.substring(name.length() - 63);
  }

  private static boolean isPostgres(Connection connection) throws SQLException {
    return connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
  }

  /**
   * Through the driver on the job's class path that takes the URL: DriverManager only sees
   * drivers of its caller's class loader, which under spark-submit is not the job jar's.
   */
  static Connection connect(JdbcTarget target) throws SQLException {
    Driver driver = driverFor(target.url());
    Connection connection = driver.connect(target.url(), target.connectionProperties());
    if (connection == null) {
      throw new SQLException("The JDBC driver " + driver.getClass().getName() + " does not take the URL of " + target.table());
    }
    return connection;
  }

  private static Driver driverFor(String url) throws SQLException {
    for (Driver driver : ServiceLoader.load(Driver.class, JdbcRunTable.class.getClassLoader())) {
      if (driver.acceptsURL(url)) {
        return driver;
      }
    }
    return DriverManager.getDriver(url);
  }

  /** After a failure: the staging table must not stay behind; a failure to drop it joins the first one. */
  private static void dropStaging(JdbcTarget target, String staging, Exception cause) {
    try (Connection connection = connect(target);
        Statement s = connection.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + staging);
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }
}
