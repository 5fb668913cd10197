package io.bottleneck.ingest;

import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * Labels from a manifest CSV (path,label): reading and checking it, then joining it with the
 * decoded files so that every file and every manifest row is accounted for: a file the manifest
 * does not list, a row without a file, a row without a label and a path with two labels each
 * become a reject with its reason. Apart from {@link ImageIngest} because only the manifest label
 * source needs it.
 */
final class ManifestLabels {
  static final String NOT_IN_MANIFEST = "not in manifest";
  static final String MISSING = "listed in manifest but missing";
  static final String NO_MANIFEST_LABEL = "no label in manifest";
  static final String CONFLICTING_LABELS = "conflicting labels in manifest: ";

  private static final String MANIFEST_PATH = "manifest_path";
  private static final String MANIFEST_LABELS = "manifest_labels";
  private static final String JOIN_KEY = "join_key";

  private ManifestLabels() {}

  /** Manifest rows grouped by resolved path: manifest_path, join_key, manifest_labels. */
  static Dataset<Row> read(
      SparkSession spark, String csvUri, Path root, Configuration conf) {
    Path csvPath = new Path(csvUri);
    try {
      if (!csvPath.getFileSystem(conf).exists(csvPath)) {
        throw new IllegalArgumentException("Manifest " + csvUri + " does not exist");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read manifest " + csvUri, e);
    }
    Dataset<Row> csv =
        spark.read().option("header", "true").option("mode", "FAILFAST").csv(csvUri);
    for (String column : new String[] {Columns.PATH, Columns.LABEL}) {
      if (!Schemas.hasColumn(csv.schema(), column)) {
        throw new IllegalArgumentException(
            "Manifest " + csvUri + " has no column " + column + "; columns present: "
                + Arrays.toString(csv.columns()) + "; expected a header row with path,label");
      }
    }
    Column listedPath = col(Columns.PATH);
    long noPath = csv.filter(listedPath.isNull().or(trim(listedPath).equalTo(""))).count();
    if (noPath > 0) {
      throw new IllegalArgumentException(
          "Manifest " + csvUri + " has " + noPath + " rows without a path");
    }
    Column label = trim(col(Columns.LABEL));
    UserDefinedFunction resolve = resolveAgainst(root.toString());
    return csv.select(
            resolve.apply(trim(col(Columns.PATH))).as(MANIFEST_PATH),
            when(label.notEqual(""), label).as(Columns.LABEL))
        .groupBy(MANIFEST_PATH)
        // A path listed twice with one label is one entry; with two labels it is a conflict.
        .agg(array_sort(collect_set(Columns.LABEL)).as(MANIFEST_LABELS))
        .withColumn(JOIN_KEY, col(MANIFEST_PATH));
  }

  /** Full outer join of the decoded files with the manifest: files and rows all accounted for. */
  static Dataset<Row> apply(Dataset<Row> decoded, Dataset<Row> manifest) {
    Dataset<Row> files = decoded.withColumn(JOIN_KEY, normalize().apply(col(Columns.PATH)));
    Dataset<Row> joined =
        files.join(manifest, files.col(JOIN_KEY).equalTo(manifest.col(JOIN_KEY)), "full_outer");
    Column labels = manifest.col(MANIFEST_LABELS);
    Column labelCount = size(labels);
    // A label problem outranks a decoding problem: the file is not part of the data set at all.
    Column reason =
        when(files.col(Columns.PATH).isNull(), lit(MISSING))
            .when(manifest.col(MANIFEST_PATH).isNull(), lit(NOT_IN_MANIFEST))
            .when(labelCount.equalTo(0), lit(NO_MANIFEST_LABEL))
            .when(labelCount.gt(1), concat(lit(CONFLICTING_LABELS), array_join(labels, ", ")))
            .otherwise(files.col(Columns.REASON));
    return joined.select(
        coalesce(files.col(Columns.PATH), manifest.col(MANIFEST_PATH)).as(Columns.PATH),
        when(reason.isNull(), element_at(labels, 1)).as(Columns.LABEL),
        files.col(Columns.CONTENT_HASH),
        files.col(Columns.SIZE),
        files.col(Columns.WIDTH),
        files.col(Columns.HEIGHT),
        reason.as(Columns.REASON));
  }

  /**
   * Manifest path -> qualified URI: absolute URIs stay, other paths resolve against root. Hadoop's
   * Path normalizes on the way ("file:///x" -> "file:/x", "a/../b" -> "b").
   */
  private static UserDefinedFunction resolveAgainst(String root) {
    return udf(
        (UDF1<String, String>) p -> new Path(new Path(root), new Path(p)).toString(),
        DataTypes.StringType);
  }

  /** The listed path in the same normalized form as {@link #resolveAgainst}'s output. */
  private static UserDefinedFunction normalize() {
    return udf((UDF1<String, String>) p -> new Path(p).toString(), DataTypes.StringType);
  }
}
