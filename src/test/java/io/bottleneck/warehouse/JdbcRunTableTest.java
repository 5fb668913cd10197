package io.bottleneck.warehouse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Against a real PostgreSQL server started from the Debian package's binaries. */
@ExtendWith(LocalSpark.class)
class JdbcRunTableTest {
  private static final String PASSWORD = "pw-" + UUID.randomUUID();
  private static PostgresServer server;
  private final SparkSession spark = LocalSpark.session();

  @BeforeAll
  static void startServer() throws Exception {
    server = PostgresServer.start(Path.of("target", "postgres-" + UUID.randomUUID()), PASSWORD);
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private JdbcTarget target(String table) {
    return new JdbcTarget(server.url(), table, PostgresServer.USER, PASSWORD);
  }

  private Dataset<Row> run(int n, String model, RunPartition partition) {
    return partition.appendTo(CatalogTablesTest.rows(spark, n, model));
  }

  private static List<String> query(String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      int columns = r.getMetaData().getColumnCount();
      while (r.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          values.add(r.getString(i));
        }
        out.add(String.join("|", values));
      }
    }
    return out;
  }

  @Test
  void rewritingARunReplacesItsRowsAndLeavesOtherRunsAlone() throws Exception {
    RunPartition r1 = new RunPartition(CatalogTablesTest.DAY1, "r1");
    RunPartition r2 = new RunPartition(CatalogTablesTest.DAY2, "r2");
    JdbcRunTable.replaceRun(run(5, "m1", r1), target("preds_a"), "r1");
    JdbcRunTable.replaceRun(run(3, "m1", r2), target("preds_a"), "r2");
    JdbcRunTable.replaceRun(run(7, "m2", r1), target("preds_a"), "r1");
    JdbcRunTable.replaceRun(run(7, "m2", r1), target("preds_a"), "r1");

    assertThat(query("SELECT run_date, run_id, model_id, count(*) FROM preds_a GROUP BY 1, 2, 3 ORDER BY 2"))
        .containsExactly("2026-11-20|r1|m2|7", "2026-11-21|r2|m1|3");
    assertThat(query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'preds_a'"
            + " ORDER BY ordinal_position"))
        .containsExactly("path|text", "predicted_label|text", "prob_cat|double precision", "model_id|text",
            "run_date|date", "run_id|text");
    assertThat(query("SELECT indexdef FROM pg_indexes WHERE tablename = 'preds_a'"))
        .containsExactly("CREATE INDEX preds_a_run_id_idx ON public.preds_a USING btree (run_id)");
    assertThat(query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%staging%'")).isEmpty();
  }

  @Test
  void aWriteThatFailsLeavesTheTableAsItWasAndNoStagingTable() throws Exception {
    RunPartition r1 = new RunPartition(CatalogTablesTest.DAY1, "r1");
    JdbcRunTable.replaceRun(run(6, "old", r1), target("preds_b"), "r1");
    JdbcRunTable.replaceRun(run(2, "other", new RunPartition(CatalogTablesTest.DAY1, "r2")), target("preds_b"), "r2");

    Dataset<Row> failing = r1.appendTo(CatalogTablesTest.failingAt(spark, CatalogTablesTest.rows(spark, 40, "new"), 37));
    assertThatThrownBy(() -> JdbcRunTable.replaceRun(failing, target("preds_b"), "r1"))
        .hasStackTraceContaining("injected failure at file:/p/37.jpg");
    assertThat(query("SELECT run_id, model_id, count(*) FROM preds_b GROUP BY 1, 2 ORDER BY 1"))
        .containsExactly("r1|old|6", "r2|other|2");
    assertThat(query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%staging%'")).isEmpty();

    JdbcRunTable.replaceRun(run(40, "new", r1), target("preds_b"), "r1");
    assertThat(query("SELECT run_id, model_id, count(*) FROM preds_b GROUP BY 1, 2 ORDER BY 1"))
        .containsExactly("r1|new|40", "r2|other|2");
  }

  @Test
  void aTableWithOtherColumnsIsRefusedAndKept() throws Exception {
    RunPartition r1 = new RunPartition(CatalogTablesTest.DAY1, "r1");
    JdbcRunTable.replaceRun(run(2, "m", r1), target("preds_c"), "r1");
    Dataset<Row> otherClasses = run(2, "m", r1).withColumnRenamed("prob_cat", "prob_bird");
    assertThatThrownBy(() -> JdbcRunTable.replaceRun(otherClasses, target("preds_c"), "r1"))
        .hasMessageStartingWith("JDBC table preds_c has columns [path, predicted_label, prob_cat, model_id, run_date, run_id]"
            + " but these rows have [path, predicted_label, prob_bird, model_id, run_date, run_id]");
    assertThat(query("SELECT count(*) FROM preds_c")).containsExactly("2");
    assertThat(query("SELECT table_name FROM information_schema.tables WHERE table_name LIKE '%staging%'")).isEmpty();
  }

  @Test
  void aTableFromBeforePredictionsCarriedContentHashGetsTheRowsWithoutIt() throws Exception {
    RunPartition r1 = new RunPartition(CatalogTablesTest.DAY1, "r1");
    JdbcRunTable.replaceRun(run(2, "m", r1), target("preds_e"), "r1");
    Dataset<Row> withHash = new RunPartition(CatalogTablesTest.DAY2, "r2")
        .appendTo(CatalogTablesTest.rows(spark, 3, "m").withColumn("content_hash", org.apache.spark.sql.functions.lit("abc")));
    assertThat(JdbcRunTable.requireCompatible(target("preds_e"), withHash.schema())).isTrue();
    JdbcRunTable.replaceRun(withHash, target("preds_e"), "r2");
    assertThat(query("SELECT run_id, count(*) FROM preds_e GROUP BY 1 ORDER BY 1")).containsExactly("r1|2", "r2|3");
    assertThat(query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'preds_e'"
        + " AND column_name = 'content_hash'")).containsExactly("0");
  }

  @Test
  void aWrongPasswordFailsWithoutShowingIt() {
    JdbcTarget wrong = new JdbcTarget(server.url(), "preds_d", PostgresServer.USER, "not-" + PASSWORD);
    assertThatThrownBy(() -> JdbcRunTable.replaceRun(run(1, "m", new RunPartition(CatalogTablesTest.DAY1, "r1")), wrong, "r1"))
        .hasStackTraceContaining("password authentication failed for user \"bottleneck\"")
        .satisfies(e -> assertThat(stackTrace(e)).doesNotContain(PASSWORD));
    assertThat(wrong.toString()).doesNotContain(PASSWORD);
  }

  private static String stackTrace(Throwable t) {
    java.io.StringWriter w = new java.io.StringWriter();
    t.printStackTrace(new java.io.PrintWriter(w));
    return w.toString();
  }
}
