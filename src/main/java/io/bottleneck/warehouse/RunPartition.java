package io.bottleneck.warehouse;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The partition one run writes in every warehouse table: (run_date, run_id), in that order and
 * last, since Spark's insertInto matches columns by position with the partition columns last.
 */
public record RunPartition(LocalDate runDate, String runId) {
  public static final String RUN_DATE = "run_date";
  public static final String RUN_ID = "run_id";
  public static final List<String> COLUMNS = List.of(RUN_DATE, RUN_ID);

  public RunPartition {
    Objects.requireNonNull(runDate, "runDate");
    Objects.requireNonNull(runId, "runId");
  }

  /** {@code rows}' other columns in their order, then run_date (a date) and run_id. */
  public Dataset<Row> appendTo(Dataset<Row> rows) {
    List<Column> cols = new ArrayList<>();
    for (String c : rows.columns()) {
      if (!COLUMNS.contains(c)) {
        cols.add(col(c));
      }
    }
    cols.add(lit(java.sql.Date.valueOf(runDate)).as(RUN_DATE));
    cols.add(lit(runId).as(RUN_ID));
    return rows.select(cols.toArray(new Column[0]));
  }

  @Override
  public String toString() {
    return RUN_DATE + "=" + runDate + "/" + RUN_ID + "=" + runId;
  }
}
