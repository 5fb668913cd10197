package io.bottleneck.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sort_array;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.types.DataTypes;

/**
 * The data problems that silently ruin image models, found on an ingested (and possibly split)
 * image set by content hash: exact duplicates, the same image under different labels, the same
 * image in more than one split (leakage: validation then measures memory, not generalisation),
 * and class imbalance.
 *
 * @param duplicateGroups content hashes held by more than one file
 * @param duplicateFiles files beyond the first of each such hash (what {@link #dropDuplicates} drops)
 * @param duplicateExamples up to a few groups' paths, each group sorted
 * @param conflictingLabels content hashes whose files carry more than one label
 * @param leakedImages content hashes found in more than one split (0 without a split column)
 * @param leakageExamples up to a few of them as "split: path" lists
 * @param classCounts label → count per split ("all" without a split column); empty without labels
 */
public record DataQuality(
    long duplicateGroups,
    long duplicateFiles,
    List<List<String>> duplicateExamples,
    long conflictingLabels,
    long leakedImages,
    List<List<String>> leakageExamples,
    Map<String, Map<String, Long>> classCounts) {

  /** Checks {@code images} (path, content_hash, optional label and split), keeping {@code examples} examples of each problem. */
  public static DataQuality of(Dataset<Row> images, int examples) {
    Schemas.requireColumn(images.schema(), Columns.PATH, DataTypes.StringType);
    Schemas.requireColumn(images.schema(), Columns.CONTENT_HASH, DataTypes.StringType);
    boolean labeled = Schemas.hasColumn(images.schema(), Columns.LABEL);
    boolean split = Schemas.hasColumn(images.schema(), Columns.SPLIT);

    Dataset<Row> groups =
        images.groupBy(Columns.CONTENT_HASH)
            .agg(
                count("*").as("files"),
                sort_array(collect_set(col(Columns.PATH))).as("paths"),
                labeled ? countDistinct(col(Columns.LABEL)).as("labels") : lit(0L).as("labels"))
            .where(col("files").gt(1))
            .persist();
    long duplicateGroups = 0;
    long duplicateFiles = 0;
    long conflicting = 0;
    for (Row r : groups.selectExpr("count(*)", "coalesce(sum(files - 1), 0)", "coalesce(sum(cast(labels > 1 as int)), 0)").collectAsList()) {
      duplicateGroups = r.getLong(0);
      duplicateFiles = r.getLong(1);
      conflicting = r.getLong(2);
    }
    List<List<String>> duplicateExamples = new ArrayList<>();
    for (Row r : groups.orderBy(col("files").desc(), col(Columns.CONTENT_HASH)).limit(examples).collectAsList()) {
      duplicateExamples.add(r.getList(r.fieldIndex("paths")));
    }
    groups.unpersist();

    long leaked = 0;
    List<List<String>> leakageExamples = new ArrayList<>();
    if (split) {
      Dataset<Row> leaks =
          images.groupBy(Columns.CONTENT_HASH)
              .agg(
                  countDistinct(col(Columns.SPLIT)).as("splits"),
                  sort_array(collect_set(concat_ws(": ", col(Columns.SPLIT), col(Columns.PATH)))).as("where"))
              .where(col("splits").gt(1))
              .persist();
      leaked = leaks.count();
      for (Row r : leaks.orderBy(Columns.CONTENT_HASH).limit(examples).collectAsList()) {
        leakageExamples.add(r.getList(r.fieldIndex("where")));
      }
      leaks.unpersist();
    }

    Map<String, Map<String, Long>> classCounts = new TreeMap<>();
    if (labeled) {
      Dataset<Row> counts =
          split
              ? images.groupBy(Columns.SPLIT, Columns.LABEL).count()
              : images.groupBy(Columns.LABEL).count().selectExpr("'all' as split", Columns.LABEL, "count");
      for (Row r : counts.collectAsList()) {
        classCounts.computeIfAbsent(r.getString(0), k -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
      }
    }
    return new DataQuality(
        duplicateGroups, duplicateFiles, List.copyOf(duplicateExamples), conflicting, leaked,
        List.copyOf(leakageExamples), classCounts);
  }

  /**
   * The checks of an image set known to hold every content hash once, with its class counts per
   * split: no duplicates, so no conflicting labels, and no image in two splits.
   */
  public static DataQuality ofDistinctImages(Map<String, Map<String, Long>> classCounts) {
    Map<String, Map<String, Long>> copy = new TreeMap<>();
    classCounts.forEach((split, counts) -> copy.put(split, new TreeMap<>(counts)));
    return new DataQuality(0, 0, List.of(), 0, 0, List.of(), copy);
  }

  /**
   * One row per content hash, the first path in sort order kept: what {@code --dedupe} trains
   * on. Deterministic, so the same input always keeps the same files.
   */
  public static Dataset<Row> dropDuplicates(Dataset<Row> images) {
    Schemas.requireColumn(images.schema(), Columns.PATH, DataTypes.StringType);
    Schemas.requireColumn(images.schema(), Columns.CONTENT_HASH, DataTypes.StringType);
    String rank = "__duplicate_rank";
    return images
        .withColumn(rank, row_number().over(Window.partitionBy(Columns.CONTENT_HASH).orderBy(Columns.PATH)))
        .where(col(rank).equalTo(1))
        .drop(rank);
  }

  /**
   * Largest over smallest class count of the training split ("train", else "all"); 1 when
   * there are fewer than two classes, infinite when a class has no rows there.
   */
  public double imbalanceRatio() {
    Map<String, Long> counts = classCounts.getOrDefault("train", classCounts.getOrDefault("all", Map.of()));
    if (counts.size() < 2) {
      return 1.0;
    }
    long max = counts.values().stream().mapToLong(Long::longValue).max().orElse(0);
    long min = counts.values().stream().mapToLong(Long::longValue).min().orElse(0);
    return min == 0 ? Double.POSITIVE_INFINITY : (double) max / min;
  }

  /** What a user must hear about: leakage, conflicting labels, imbalance beyond {@code maxImbalanceRatio}, duplicates. */
  public List<String> warnings(double maxImbalanceRatio) {
    List<String> warnings = new ArrayList<>();
    if (leakedImages > 0) {
      warnings.add(leakedImages + " image(s) appear in more than one split (same content hash): validation metrics are "
          + "optimistic; run with --dedupe to drop duplicates before splitting. First: " + leakageExamples.get(0));
    }
    if (conflictingLabels > 0) {
      warnings.add(conflictingLabels + " image(s) occur under more than one label. First: " + duplicateExamples.get(0));
    }
    double ratio = imbalanceRatio();
    if (ratio > maxImbalanceRatio) {
      warnings.add(String.format(Locale.ROOT,
          "Class imbalance: the largest class has %.1f times the rows of the smallest (limit %.1f, key quality.max-imbalance-ratio); "
              + "consider train.class-weights = balanced. Counts: %s",
          ratio, maxImbalanceRatio, classCounts.getOrDefault("train", classCounts.get("all"))));
    }
    if (duplicateGroups > 0 && leakedImages == 0) {
      warnings.add(duplicateFiles + " duplicate file(s) in " + duplicateGroups + " group(s) of identical images. First: "
          + duplicateExamples.get(0));
    }
    return warnings;
  }

  /** For summary.json and the report. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("duplicate_groups", duplicateGroups);
    m.put("duplicate_files", duplicateFiles);
    m.put("conflicting_labels", conflictingLabels);
    m.put("leaked_images", leakedImages);
    m.put("imbalance_ratio", Double.isFinite(imbalanceRatio()) ? imbalanceRatio() : null);
    m.put("class_counts", classCounts);
    return m;
  }
}
