package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warehouse through the launcher, one JVM per command as users run it: the embedded
 * catalog (Hive metastore on Derby) persists between jobs run in the same working directory,
 * re-runs replace their (run_date, run_id) partition, the sql command reads the tables, and
 * --jdbc-url writes the predictions to a real PostgreSQL server, the password coming from the
 * environment and never printed.
 */
@Tag("integration")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WarehouseIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PASSWORD = "pw-" + UUID.randomUUID();
  @TempDir static Path work;
  private static PostgresServer postgres;
  private static Map<String, String> credentials;

  @BeforeAll
  static void startPostgres() throws Exception {
    postgres = PostgresServer.start(Path.of("target", "postgres-it-" + UUID.randomUUID()), PASSWORD);
    credentials = Map.of("BOTTLENECK_JDBC_USER", PostgresServer.USER, "BOTTLENECK_JDBC_PASSWORD", PASSWORD);
  }

  @AfterAll
  static void stopPostgres() throws Exception {
    if (postgres != null) {
      postgres.close();
    }
  }

  private static String train() {
    return Launcher.sample("train").toString();
  }

  private static String predict() {
    return Launcher.sample("predict").toString();
  }

  private static Launcher.Result ok(Launcher.Result r) {
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stdout() + r.stderr()).as("the JDBC password is never printed").doesNotContain(PASSWORD);
    return r;
  }

  private static List<String> jdbc(String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = postgres.connect();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= r.getMetaData().getColumnCount(); i++) {
          values.add(r.getString(i));
        }
        out.add(String.join("|", values));
      }
    }
    return out;
  }

  @Test
  @Order(1)
  void badRunDateAndMissingQueryExitTwoBeforeSparkStarts() throws Exception {
    Launcher.Result badDate =
        Launcher.run(work, "predict", "--model", "m", "--input", "x", "--table", "t", "--run-date", "2026-02-30");
    assertThat(badDate.exitCode()).as(badDate.toString()).isEqualTo(2);
    assertThat(badDate.stderr())
        .contains("Cannot set bottleneck.run-date to 2026-02-30: the value must be a date YYYY-MM-DD")
        .doesNotContain("SparkContext");

    Launcher.Result noQuery = Launcher.run(work, "sql");
    assertThat(noQuery.exitCode()).as(noQuery.toString()).isEqualTo(2);
    assertThat(noQuery.stderr()).contains("Missing required parameter: 'QUERY'");
  }

  @Test
  @Order(2)
  void tablesPersistAcrossJobsAndReRunsReplaceTheirPartition() throws Exception {
    // job 1: trains, writes run r1 to the predictions table, the metrics table and PostgreSQL
    Launcher.Result pipeline =
        ok(Launcher.run(work, credentials, "pipeline", "--input", train(), "--epochs", "3", "--run-id", "r1",
            "--run-date", "2026-11-20", "--predict-input", predict(), "--table", "predictions",
            "--metrics-table", "metrics", "--jdbc-url", postgres.url()));
    JsonNode validation = JSON.readTree(pipeline.lastLine());
    assertThat(validation.get("n").asInt()).isEqualTo(16);

    // job 2: another run id on another date; job 3: run r1 again (same id and date)
    String model = work.resolve("runs/r1/model").toString();
    Launcher.Result r2 =
        ok(Launcher.run(work, credentials, "predict", "--model", model, "--input", predict(), "--run-id", "r2",
            "--run-date", "2026-11-21", "--table", "predictions", "--jdbc-url", postgres.url()));
    JsonNode report = JSON.readTree(r2.lastLine());
    assertThat(report.get("predicted").asLong()).isEqualTo(12);
    assertThat(report.get("run_date").asText()).isEqualTo("2026-11-21");
    assertThat(report.get("jdbc_table").asText()).isEqualTo("predictions");
    ok(Launcher.run(work, credentials, "predict", "--model", model, "--input", predict(), "--run-id", "r1",
        "--run-date", "2026-11-20", "--table", "predictions", "--jdbc-url", postgres.url()));
    // job 4: evaluate on the 80 training images replaces r1's metrics row (was: 16 validation images)
    ok(Launcher.run(work, "evaluate", "--model", model, "--input", train(), "--run-id", "r1", "--run-date", "2026-11-20",
        "--metrics-table", "metrics"));

    Launcher.Result counts =
        ok(Launcher.run(work, "sql", "--format", "json",
            "SELECT run_date, run_id, count(*) AS n, count(DISTINCT path) AS paths FROM predictions"
                + " GROUP BY run_date, run_id ORDER BY run_id"));
    assertThat(counts.stdoutLines()).containsExactly(
        "{\"run_date\":\"2026-11-20\",\"run_id\":\"r1\",\"n\":12,\"paths\":12}",
        "{\"run_date\":\"2026-11-21\",\"run_id\":\"r2\",\"n\":12,\"paths\":12}",
        "{\"columns\":[\"run_date\",\"run_id\",\"n\",\"paths\"],\"rows\":2,\"truncated\":false}");

    Launcher.Result metrics =
        ok(Launcher.run(work, "sql",
            "SELECT run_date, run_id, command, n, per_class['cat'].support AS cat_support FROM metrics"));
    assertThat(metrics.stdoutLines()).containsExactly(
        "+------------+--------+----------+----+-------------+",
        "| run_date   | run_id | command  | n  | cat_support |",
        "+------------+--------+----------+----+-------------+",
        "| 2026-11-20 | r1     | evaluate | 80 | 40          |",
        "+------------+--------+----------+----+-------------+",
        "{\"columns\":[\"run_date\",\"run_id\",\"command\",\"n\",\"cat_support\"],\"rows\":1,\"truncated\":false}");

    assertThat(jdbc("SELECT run_date, run_id, count(*), count(DISTINCT path) FROM predictions GROUP BY 1, 2 ORDER BY 2"))
        .containsExactly("2026-11-20|r1|12|12", "2026-11-21|r2|12|12");

    Launcher.Result badSql = Launcher.run(work, "sql", "SELECT * FROM no_such_table");
    assertThat(badSql.exitCode()).as(badSql.toString()).isEqualTo(1);
    assertThat(badSql.stderr()).contains("bottleneck sql failed: ").contains("no_such_table");
  }
}
