package io.bottleneck.predict;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_extract;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.types.DataTypes;

/**
 * Prediction rows in their published shape, written to files re-runnably: a run's rows live in
 * the directory {@code run_id=<id>}, and writing the same run again replaces exactly that
 * directory (dynamic partition overwrite), so re-runs never duplicate rows. Catalog and JDBC
 * tables: {@link io.bottleneck.warehouse.CatalogTables}, {@link io.bottleneck.warehouse.JdbcRunTable}.
 */
public final class PredictionWriter {
  public static final String PREDICTED_LABEL = "predicted_label";
  public static final String MODEL_ID = "model_id";
  public static final String RUN_ID = "run_id";
  public static final String PREDICTED_AT = "predicted_at";
  /** Kaggle-style submission columns, in CSV output. */
  public static final String KAGGLE_ID = "id";
  public static final String KAGGLE_LABEL = "label";

  private PredictionWriter() {}

  /** Column name of one class's probability: prob_ + the class name in lower snake case. */
  public static String probabilityColumn(String className) {
    return "prob_" + className.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_");
  }

  /**
   * path, predicted_label, prob_&lt;class&gt;..., model_id, predicted_at, content_hash, run_id
   * (partition column last, as insertInto matches columns by position). The content hash is the
   * image's identity: what {@code predict --skip-existing} looks up.
   */
  public static Dataset<Row> publishedRows(
      Dataset<Row> scored, List<String> classes, String modelId, String runId, Timestamp at) {
    Schemas.requireColumn(scored.schema(), Columns.PATH, DataTypes.StringType);
    Schemas.requireColumn(scored.schema(), Columns.CONTENT_HASH, DataTypes.StringType);
    Schemas.requireColumn(scored.schema(), Columns.PREDICTION, DataTypes.StringType);
    Schemas.requireColumn(
        scored.schema(), Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));
    List<Column> cols = new ArrayList<>();
    cols.add(col(Columns.PATH));
    cols.add(col(Columns.PREDICTION).as(PREDICTED_LABEL));
    Set<String> names = new HashSet<>();
    for (int i = 0; i < classes.size(); i++) {
      String name = probabilityColumn(classes.get(i));
      if (!names.add(name)) {
        throw new IllegalArgumentException(
            "Classes " + classes + " give the probability column " + name + " twice; rename a class");
      }
      cols.add(element_at(col(Columns.PROBABILITIES), i + 1).as(name));
    }
    cols.add(lit(modelId).as(MODEL_ID));
    cols.add(lit(at).as(PREDICTED_AT));
    cols.add(col(Columns.CONTENT_HASH));
    cols.add(lit(runId).as(RUN_ID));
    return scored.select(cols.toArray(new Column[0]));
  }

  /** Writes under {@code outputUri}/run_id=&lt;id&gt;, replacing that run's earlier rows. */
  public static void writeFiles(Dataset<Row> rows, String outputUri, String format) {
    writeFiles(rows, outputUri, format, List.of(RUN_ID));
  }

  /**
   * Writes under {@code outputUri}/&lt;col&gt;=&lt;value&gt;/... for the partition columns (the
   * rows' last columns), replacing exactly the partitions these rows have.
   */
  public static void writeFiles(Dataset<Row> rows, String outputUri, String format, List<String> partitionColumns) {
    Dataset<Row> out = rows;
    if (format.equals("csv")) {
      // Kaggle submission columns first: id = file name without extension, label = prediction
      List<Column> cols = new ArrayList<>();
      cols.add(regexp_extract(col(Columns.PATH), "([^/]+?)(\\.[^./]*)?$", 1).as(KAGGLE_ID));
      cols.add(col(PREDICTED_LABEL).as(KAGGLE_LABEL));
      for (String c : rows.columns()) {
        cols.add(col(c));
      }
      out = rows.select(cols.toArray(new Column[0]));
    }
    out.coalesce(1)
        .write()
        .mode(SaveMode.Overwrite)
        .option("partitionOverwriteMode", "dynamic")
        .option("header", "true")
        .partitionBy(partitionColumns.toArray(new String[0]))
        .format(format)
        .save(outputUri);
  }
}
