package io.bottleneck.warehouse;

import io.bottleneck.io.Columns;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalog.Column;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Catalog tables partitioned by run: each run's rows live in the partition (run_date, run_id),
 * and writing a run again replaces exactly that partition. The table is created empty first and
 * every write is a dynamic partition overwrite: Spark writes the new partition under the
 * table's hidden {@code .spark-staging-<job>} directory and moves it into place only when the
 * job commits, so a failed or killed write leaves the table's partitions as they were (readers
 * skip hidden directories).
 */
public final class CatalogTables {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogTables.class);
  private static final String OVERWRITE_MODE = "spark.sql.sources.partitionOverwriteMode";

  private CatalogTables() {}

  /**
   * Replaces the partition {@code partition} of {@code table} with {@code rows} (whose own
   * run_date/run_id columns, if any, are replaced by the partition's), creating the table on
   * first use.
   */
  public static void replaceRunPartition(SparkSession spark, Dataset<Row> rows, String table, RunPartition partition) {
    Dataset<Row> partitioned = partition.appendTo(withoutColumnsOlderTablesLack(spark, table, rows));
    createIfMissing(spark, table, partitioned.schema(), RunPartition.COLUMNS);
    requireLayout(spark, table, partitioned.schema(), RunPartition.COLUMNS);
    requireRunIdOnlyOn(spark, table, partition);
    overwritePartitions(spark, partitioned, table);
    LOG.info("Replaced partition {} of table {}", partition, table);
  }

  /**
   * Replaces the partitions that {@code rows} hold (the partition columns are the rows' last
   * columns, in {@code partitionColumns} order) with these rows, creating the table partitioned
   * by {@code partitionColumns} on first use. Writing the same rows again replaces, never adds:
   * the idempotent write of a streaming micro-batch keyed by its partition (run_id, batch_id).
   */
  public static void replacePartitions(
      SparkSession spark, Dataset<Row> rows, String table, List<String> partitionColumns) {
    createIfMissing(spark, table, rows.schema(), partitionColumns);
    requireLayout(spark, table, rows.schema(), partitionColumns);
    overwritePartitions(spark, rows, table);
  }

  /**
   * Before any write: fails (naming the table) if {@code table} exists with other columns or
   * another partitioning than rows of {@code schema} partitioned by {@code partitionColumns}.
   *
   * @return whether the table exists
   */
  public static boolean requireCompatible(
      SparkSession spark, String table, StructType schema, List<String> partitionColumns) {
    if (!spark.catalog().tableExists(table)) {
      return false;
    }
    StructType written = schema;
    if (lacksContentHash(spark, table) && List.of(schema.fieldNames()).contains(Columns.CONTENT_HASH)) {
      written = new StructType(java.util.Arrays.stream(schema.fields())
          .filter(f -> !f.name().equals(Columns.CONTENT_HASH)).toArray(org.apache.spark.sql.types.StructField[]::new));
    }
    requireLayout(spark, table, written, partitionColumns);
    return true;
  }

  /**
   * Prediction rows carry {@code content_hash} since predict --skip-existing and the stream
   * command; a table created before that keeps its layout and gets the rows without it (a new
   * column would break its readers), which only --skip-existing cannot use.
   */
  static Dataset<Row> withoutColumnsOlderTablesLack(SparkSession spark, String table, Dataset<Row> rows) {
    if (spark.catalog().tableExists(table) && lacksContentHash(spark, table)
        && List.of(rows.columns()).contains(Columns.CONTENT_HASH)) {
      LOG.info("Table {} predates the {} column: its rows are written without it", table, Columns.CONTENT_HASH);
      return rows.drop(Columns.CONTENT_HASH);
    }
    return rows;
  }

  private static boolean lacksContentHash(SparkSession spark, String table) {
    return !List.of(spark.table(table).schema().fieldNames()).contains(Columns.CONTENT_HASH);
  }

  private static void createIfMissing(SparkSession spark, String table, StructType schema, List<String> partitionColumns) {
    if (!spark.catalog().tableExists(table)) {
      // an empty table first: the data then always arrives through the staged overwrite below
      spark.sql("CREATE TABLE IF NOT EXISTS " + table + " (" + schema.toDDL() + ") USING parquet PARTITIONED BY ("
          + String.join(", ", partitionColumns) + ")");
      LOG.info("Created table {} partitioned by {}", table, partitionColumns);
    }
  }

  private static void overwritePartitions(SparkSession spark, Dataset<Row> partitioned, String table) {
    String previous = spark.conf().get(OVERWRITE_MODE);
    spark.conf().set(OVERWRITE_MODE, "dynamic");
    try {
      partitioned.write().mode(SaveMode.Overwrite).insertInto(table);
    } finally {
      spark.conf().set(OVERWRITE_MODE, previous);
    }
  }

  /** The table's columns, types and partitioning must be the ones these rows are written with. */
  private static void requireLayout(SparkSession spark, String table, StructType rows, List<String> partitioning) {
    List<String> partitionColumns = new ArrayList<>();
    List<Column> columns;
    try {
      columns = spark.catalog().listColumns(table).collectAsList();
    } catch (AnalysisException e) { // checked in Java's eyes; the table existed a moment ago
      throw new IllegalStateException("Cannot read the columns of table " + table + ": " + e.getMessage(), e);
    }
    for (Column c : columns) {
      if (c.isPartition()) {
        partitionColumns.add(c.name());
      }
    }
    if (!partitionColumns.equals(partitioning) && !partitioning.equals(RunPartition.COLUMNS)) {
      throw new IllegalStateException(
          "Table " + table + " is partitioned by " + partitionColumns + " but these rows are written partitioned by "
              + partitioning + "; write to a new table");
    }
    if (!partitionColumns.equals(partitioning)) {
      throw new IllegalStateException(
          "Table " + table + " is partitioned by " + partitionColumns + " but Bottleneck writes tables partitioned by "
              + RunPartition.COLUMNS + " (the layout before run dates had [run_id] alone): write to a new table, or"
              + " copy the old rows into one with CREATE TABLE ... PARTITIONED BY (run_date, run_id) AS SELECT"
              + " ..., DATE'YYYY-MM-DD' AS run_date, run_id FROM " + table);
    }
    StructType existing = spark.table(table).schema();
    if (!sameColumns(existing, rows)) {
      throw new IllegalStateException(
          "Table " + table + " has columns " + describe(existing) + " but these rows have " + describe(rows)
              + "; write to a new table (e.g. the model's classes differ)");
    }
  }

  /**
   * A run id belongs to one run date: re-running it under another date would leave its rows
   * twice (one copy per date), so that is refused rather than silently duplicated.
   */
  private static void requireRunIdOnlyOn(SparkSession spark, String table, RunPartition partition) {
    List<Row> otherDates =
        spark.table(table)
            .where(col(RunPartition.RUN_ID).equalTo(lit(partition.runId()))
                .and(col(RunPartition.RUN_DATE).notEqual(lit(java.sql.Date.valueOf(partition.runDate())))))
            .select(RunPartition.RUN_DATE)
            .distinct()
            .collectAsList();
    if (!otherDates.isEmpty()) {
      throw new IllegalStateException(
          "Table " + table + " already holds run " + partition.runId() + " under run_date " + otherDates.get(0).get(0)
              + ", not " + partition.runDate() + ": re-run it with --run-date " + otherDates.get(0).get(0)
              + " to replace it, or use a new run id");
    }
  }

  private static boolean sameColumns(StructType a, StructType b) {
    if (a.fields().length != b.fields().length) {
      return false;
    }
    for (int i = 0; i < a.fields().length; i++) {
      StructField x = a.fields()[i];
      StructField y = b.fields()[i];
      if (!x.name().equals(y.name()) || !sameType(x.dataType(), y.dataType())) {
        return false;
      }
    }
    return true;
  }

  /** Types compared without nullability (catalogString leaves it out), which a catalog may not keep. */
  private static boolean sameType(DataType a, DataType b) {
    return a.catalogString().equals(b.catalogString());
  }

  private static String describe(StructType schema) {
    List<String> columns = new ArrayList<>();
    for (StructField f : schema.fields()) {
      columns.add(f.name() + " " + f.dataType().catalogString());
    }
    return columns.toString();
  }
}
