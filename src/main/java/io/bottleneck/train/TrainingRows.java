package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The rows a head trains on, as both the CLI's train stage and {@link io.bottleneck.ml}'s
 * DenseHeadClassifier prepare them: class names in order, label indexes, a stable row order.
 */
public final class TrainingRows {
  private TrainingRows() {}

  /** Class names in output order: the distinct labels, sorted (as Keras flow_from_directory). */
  public static List<String> classes(Dataset<Row> labeled) {
    List<String> classes = new ArrayList<>();
    for (Row r : labeled.select(Columns.LABEL).where(col(Columns.LABEL).isNotNull()).distinct().orderBy(Columns.LABEL).collectAsList()) {
      classes.add(r.getString(0));
    }
    if (classes.size() < 2) {
      throw new IllegalArgumentException(
          "Training needs at least 2 classes in column " + Columns.LABEL + " but found " + classes);
    }
    return classes;
  }
  /**
   * Labels in the order {@link #classes} gives them: sorted as Spark sorts strings (by UTF-8
   * bytes), for callers that know the labels without a job.
   */
  public static List<String> inClassOrder(java.util.Collection<String> labels) {
    return labels.stream()
        .sorted(java.util.Comparator.comparing(
            (String c) -> c.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.util.Arrays::compareUnsigned))
        .toList();
  }

  /** Adds {@code label_index}: the label's position in {@code classes}; fails naming unknown labels. */
  public static Dataset<Row> withLabelIndex(Dataset<Row> labeled, List<String> classes) {
    return withLabelIndex(labeled, classes, true);
  }

  /**
   * As above; {@code checkLabels} false skips the check (a job) when the caller knows every
   * label is one of {@code classes}, e.g. from the split's counts.
   */
  public static Dataset<Row> withLabelIndex(Dataset<Row> labeled, List<String> classes, boolean checkLabels) {
    Column index = lit(null).cast("int");
    for (int i = classes.size() - 1; i >= 0; i--) {
      index = when(col(Columns.LABEL).equalTo(classes.get(i)), lit(i)).otherwise(index);
    }
    Dataset<Row> out = labeled.withColumn(Columns.LABEL_INDEX, index);
    if (!checkLabels) {
      return out;
    }
    List<Row> unknown = out.where(col(Columns.LABEL_INDEX).isNull()).select(Columns.LABEL).distinct().limit(10).collectAsList();
    if (!unknown.isEmpty()) {
      List<String> names = new ArrayList<>();
      unknown.forEach(r -> names.add(String.valueOf(r.get(0))));
      throw new IllegalArgumentException(
          "Column " + Columns.LABEL + " has values the model does not know: " + names + "; model classes: " + classes);
    }
    return out;
  }
  /**
   * The rows in an order that does not depend on partitioning (content hash, view, path where
   * present), so a seeded training run sees the same batches on any cluster.
   */
  public static Dataset<Row> inStableOrder(Dataset<Row> rows) {
    List<Column> keys = new ArrayList<>();
    for (String name : List.of(Columns.CONTENT_HASH, Columns.VIEW, Columns.PATH)) {
      if (Schemas.hasColumn(rows.schema(), name)) {
        keys.add(col(name));
      }
    }
    return keys.isEmpty() ? rows : rows.orderBy(keys.toArray(new Column[0]));
  }}
