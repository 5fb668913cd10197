package io.bottleneck.warehouse;

import static org.apache.spark.sql.functions.callUDF;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.testing.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class CatalogTablesTest {
  static final LocalDate DAY1 = LocalDate.of(2026, 11, 20);
  static final LocalDate DAY2 = LocalDate.of(2026, 11, 21);
  private static final String TABLE = "catalog_tables_test";
  private final SparkSession spark = LocalSpark.session();

  /** Prediction-shaped rows: path, predicted_label, prob_cat, model_id, run_id. */
  static Dataset<Row> rows(SparkSession spark, int n, String model) {
    StructType schema =
        new StructType()
            .add("path", DataTypes.StringType)
            .add("predicted_label", DataTypes.StringType)
            .add("prob_cat", DataTypes.DoubleType)
            .add("model_id", DataTypes.StringType);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(RowFactory.create("file:/p/" + i + ".jpg", i % 2 == 0 ? "cat" : "dog", i / (double) n, model));
    }
    return spark.createDataFrame(rows, schema).repartition(2);
  }

  /** Fails the row whose path ends in /{failAt}.jpg, after the rows before it were written. */
  static Dataset<Row> failingAt(SparkSession spark, Dataset<Row> rows, int failAt) {
    spark.udf().register("fail_at_" + failAt, (UDF1<String, String>) path -> {
      if (path.endsWith("/" + failAt + ".jpg")) {
        throw new IllegalStateException("injected failure at " + path);
      }
      return path;
    }, DataTypes.StringType);
    return rows.withColumn("path", callUDF("fail_at_" + failAt, col("path")));
  }

  private long count(String where) {
    return spark.table(TABLE).where(where).count();
  }

  @AfterEach
  void drop() {
    spark.sql("DROP TABLE IF EXISTS " + TABLE);
  }

  @Test
  void tableIsPartitionedByRunDateThenRunIdAndARerunReplacesOnlyItsPartition() {
    CatalogTables.replaceRunPartition(spark, rows(spark, 4, "m1"), TABLE, new RunPartition(DAY1, "r1"));
    CatalogTables.replaceRunPartition(spark, rows(spark, 3, "m1"), TABLE, new RunPartition(DAY2, "r2"));
    CatalogTables.replaceRunPartition(spark, rows(spark, 5, "m2"), TABLE, new RunPartition(DAY1, "r1"));
    CatalogTables.replaceRunPartition(spark, rows(spark, 5, "m2"), TABLE, new RunPartition(DAY1, "r1"));

    assertThat(spark.table(TABLE).columns())
        .containsExactly("path", "predicted_label", "prob_cat", "model_id", "run_date", "run_id");
    assertThat(spark.sql("SHOW PARTITIONS " + TABLE).as(org.apache.spark.sql.Encoders.STRING()).collectAsList())
        .containsExactlyInAnyOrder("run_date=2026-11-20/run_id=r1", "run_date=2026-11-21/run_id=r2");
    assertThat(count("run_id = 'r1' AND run_date = DATE'2026-11-20'")).isEqualTo(5);
    assertThat(count("run_id = 'r1' AND model_id = 'm1'")).isZero();
    assertThat(count("run_id = 'r2' AND run_date = DATE'2026-11-21'")).isEqualTo(3);
    assertThat(spark.table(TABLE).count()).isEqualTo(8);
  }

  @Test
  void aWriteThatFailsMidwayLeavesThePartitionAsItWasAndTheNextWriteWorks() {
    CatalogTables.replaceRunPartition(spark, rows(spark, 6, "old"), TABLE, new RunPartition(DAY1, "r1"));
    CatalogTables.replaceRunPartition(spark, rows(spark, 2, "other"), TABLE, new RunPartition(DAY2, "r2"));

    // same run again, and a new run: each fails after some of its rows were written
    for (RunPartition p : List.of(new RunPartition(DAY1, "r1"), new RunPartition(DAY2, "r3"))) {
      assertThatThrownBy(
              () -> CatalogTables.replaceRunPartition(spark, failingAt(spark, rows(spark, 40, "new"), 37), TABLE, p))
          .hasStackTraceContaining("injected failure at file:/p/37.jpg");
    }
    assertThat(count("run_id = 'r1' AND model_id = 'old'")).isEqualTo(6);
    assertThat(count("model_id = 'new'")).isZero();
    assertThat(count("run_id = 'r3'")).isZero();
    assertThat(count("run_id = 'r2'")).isEqualTo(2);
    assertThat(spark.table(TABLE).count()).isEqualTo(8);

    CatalogTables.replaceRunPartition(spark, rows(spark, 40, "new"), TABLE, new RunPartition(DAY1, "r1"));
    assertThat(count("run_id = 'r1' AND model_id = 'new'")).isEqualTo(40);
    assertThat(count("run_id = 'r1' AND model_id = 'old'")).isZero();
    assertThat(count("run_id = 'r2'")).isEqualTo(2);
  }

  /**
   * A job killed while writing leaves its files where Spark staged them, under the table's
   * hidden .spark-staging-<job> directory: no reader sees them, and the next write is unaffected.
   */
  @Test
  void filesOfAKilledWriteStayInvisible() throws Exception {
    CatalogTables.replaceRunPartition(spark, rows(spark, 3, "m"), TABLE, new RunPartition(DAY1, "r1"));
    Path location = Path.of(java.net.URI.create(
        spark.sql("DESCRIBE FORMATTED " + TABLE).where("col_name = 'Location'").first().getString(1)));
    Path partition = location.resolve("run_date=2026-11-20/run_id=r1");
    Path killed = Files.createDirectories(location.resolve(".spark-staging-killed/run_date=2026-11-21/run_id=r9"));
    try (Stream<Path> files = Files.list(partition)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".parquet")).toList()) {
        Files.copy(f, killed.resolve(f.getFileName()));
      }
    }
    spark.catalog().refreshTable(TABLE);
    assertThat(spark.table(TABLE).count()).isEqualTo(3);
    assertThat(count("run_id = 'r9'")).isZero();

    CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY2, "r9"));
    assertThat(count("run_id = 'r9'")).isEqualTo(2);
    assertThat(count("run_id = 'r1'")).isEqualTo(3);
  }

  @Test
  void aRunIdIsNotWrittenUnderASecondDate() {
    CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY1, "r1"));
    assertThatThrownBy(() -> CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY2, "r1")))
        .hasMessage("Table " + TABLE + " already holds run r1 under run_date 2026-11-20, not 2026-11-21: re-run it with"
            + " --run-date 2026-11-20 to replace it, or use a new run id");
    assertThat(spark.table(TABLE).count()).isEqualTo(2);
  }

  @Test
  void aTableOfTheOldRunIdLayoutIsRefusedByName() {
    spark.sql("CREATE TABLE " + TABLE + " (path STRING, predicted_label STRING, prob_cat DOUBLE, model_id STRING,"
        + " run_id STRING) USING parquet PARTITIONED BY (run_id)");
    assertThatThrownBy(() -> CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY1, "r1")))
        .hasMessageStartingWith("Table " + TABLE + " is partitioned by [run_id] but Bottleneck writes tables partitioned by"
            + " [run_date, run_id]");
  }

  @Test
  void aTableFromBeforePredictionsCarriedContentHashsGetsTheRowsWithoutIt() {
    CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY1, "r1"));
    Dataset<Row> withHash = rows(spark, 3, "m").withColumn("content_hash", lit("abc"));
    assertThat(CatalogTables.requireCompatible(spark, TABLE, new RunPartition(DAY2, "r2").appendTo(withHash).schema(),
        RunPartition.COLUMNS)).isTrue();
    CatalogTables.replaceRunPartition(spark, withHash, TABLE, new RunPartition(DAY2, "r2"));
    assertThat(spark.table(TABLE).columns()).doesNotContain("content_hash");
    assertThat(count("run_id = 'r2'")).isEqualTo(3);
    // a new table gets the column
    spark.sql("DROP TABLE IF EXISTS " + TABLE + "_new");
    CatalogTables.replaceRunPartition(spark, withHash, TABLE + "_new", new RunPartition(DAY1, "r1"));
    assertThat(spark.table(TABLE + "_new").columns()).contains("content_hash");
    spark.sql("DROP TABLE IF EXISTS " + TABLE + "_new");
  }

  @Test
  void rowsOfOtherColumnsAreRefusedNamingBothColumnLists() {
    CatalogTables.replaceRunPartition(spark, rows(spark, 2, "m"), TABLE, new RunPartition(DAY1, "r1"));
    Dataset<Row> otherClasses = rows(spark, 2, "m").withColumnRenamed("prob_cat", "prob_bird");
    assertThatThrownBy(() -> CatalogTables.replaceRunPartition(spark, otherClasses, TABLE, new RunPartition(DAY1, "r2")))
        .hasMessageContaining("has columns [path string, predicted_label string, prob_cat double, model_id string,"
            + " run_date date, run_id string] but these rows have [path string, predicted_label string, prob_bird double,")
        .hasMessageEndingWith("write to a new table (e.g. the model's classes differ)");
  }

  @Test
  void metricsRowHoldsHeadlineColumnsAndPerClassMap() {
    ClassificationMetrics metrics =
        ClassificationMetrics.compute(
            List.of("cat", "dog"), new int[] {0, 0, 1, 1}, new double[][] {{0.9, 0.1}, {0.4, 0.6}, {0.2, 0.8}, {0.3, 0.7}});
    Dataset<Row> row = MetricsRows.of(spark, metrics, "m1", "evaluate", "file:/in", Timestamp.valueOf("2026-11-20 06:00:00"));
    CatalogTables.replaceRunPartition(spark, row, TABLE, new RunPartition(DAY1, "r1"));
    CatalogTables.replaceRunPartition(spark, row, TABLE, new RunPartition(DAY1, "r1"));

    Row stored =
        spark.sql("SELECT n, accuracy, auc, per_class['cat'].recall AS cat_recall, per_class['dog'].precision AS dog_precision,"
                + " per_class['dog'].support AS dog_support, run_date, run_id FROM " + TABLE)
            .collectAsList().stream().reduce((a, b) -> { throw new AssertionError("two rows: " + a + ", " + b); }).orElseThrow();
    assertThat(stored.getLong(0)).isEqualTo(4);
    assertThat(stored.getDouble(1)).isEqualTo(0.75);
    assertThat(stored.getDouble(2)).isEqualTo(1.0);
    assertThat(stored.getDouble(3)).isEqualTo(0.5);
    assertThat(stored.getDouble(4)).isEqualTo(2 / 3.0);
    assertThat(stored.getLong(5)).isEqualTo(2);
    assertThat(stored.get(6)).hasToString("2026-11-20");
    assertThat(stored.getString(7)).isEqualTo("r1");
    assertThat(Stream.of(spark.table(TABLE).columns()))
        .containsExactly("model_id", "command", "input", "n", "accuracy", "loss", "auc", "per_class", "evaluated_at",
            "run_date", "run_id");
  }
}
