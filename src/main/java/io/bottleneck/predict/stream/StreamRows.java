package io.bottleneck.predict.stream;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.io.Columns;
import io.bottleneck.predict.PredictionWriter;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The rows a micro-batch writes: predict's rows plus ingested_at, keyed by (run_id, batch_id),
 * the last two columns (the partition columns of tables and folders, in that order), so that
 * writing a batch again replaces exactly that batch's rows.
 */
public final class StreamRows {
  public static final String BATCH_ID = "batch_id";
  public static final String INGESTED_AT = "ingested_at";
  /** The key of a micro-batch's rows in every target, in partition order. */
  public static final List<String> KEY = List.of(PredictionWriter.RUN_ID, BATCH_ID);

  /** Schema of the rejects: path, reason, size, then as the predictions. */
  public static final StructType REJECTS =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType)
          .add(Columns.REASON, DataTypes.StringType)
          .add(Columns.SIZE, DataTypes.LongType)
          .add(INGESTED_AT, DataTypes.TimestampType)
          .add(PredictionWriter.RUN_ID, DataTypes.StringType)
          .add(BATCH_ID, DataTypes.LongType);

  private StreamRows() {}

  /** {@code published} (predict's rows) without its run_id, then ingested_at, run_id, batch_id. */
  public static Dataset<Row> predictions(Dataset<Row> published, String runId, long batchId, Timestamp ingestedAt) {
    List<Column> cols = new ArrayList<>();
    for (String c : published.columns()) {
      if (!c.equals(PredictionWriter.RUN_ID) && !c.equals(BATCH_ID) && !c.equals(INGESTED_AT)) {
        cols.add(col(c));
      }
    }
    cols.add(lit(ingestedAt).as(INGESTED_AT));
    cols.add(lit(runId).as(PredictionWriter.RUN_ID));
    cols.add(lit(batchId).as(BATCH_ID));
    return published.select(cols.toArray(new Column[0]));
  }

  /** The schema of {@link #predictions} for rows of {@code published}. */
  public static StructType predictionsSchema(StructType published) {
    StructType out = new StructType();
    for (StructField f : published.fields()) {
      if (!f.name().equals(PredictionWriter.RUN_ID)) {
        out = out.add(f);
      }
    }
    return out.add(INGESTED_AT, DataTypes.TimestampType, false)
        .add(PredictionWriter.RUN_ID, DataTypes.StringType, false)
        .add(BATCH_ID, DataTypes.LongType, false);
  }

  /** Ingest's rejects (path, reason, size) in {@link #REJECTS}' shape. */
  public static Dataset<Row> rejects(Dataset<Row> rejects, String runId, long batchId, Timestamp ingestedAt) {
    return rejects.select(
        col(Columns.PATH),
        col(Columns.REASON),
        col(Columns.SIZE),
        lit(ingestedAt).as(INGESTED_AT),
        lit(runId).as(PredictionWriter.RUN_ID),
        lit(batchId).as(BATCH_ID));
  }
}
