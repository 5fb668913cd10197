package io.bottleneck.split;

import io.bottleneck.ingest.DataQuality;
import io.bottleneck.io.Columns;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A split and the counts {@link StratifiedSplit} learned while computing it, from its one
 * aggregation over the input: a caller reports per-split counts and duplicates from these
 * instead of running more jobs over the result.
 *
 * @param rows the input with its {@code split} column (lazy: not computed yet)
 * @param distinctImages split → label → distinct images (content hashes)
 * @param duplicateGroups content hashes held by more than one row
 * @param duplicateFiles rows beyond the first of each such hash
 * @param conflictingLabels content hashes whose rows carry more than one label
 */
public record SplitResult(
    Dataset<Row> rows,
    Map<String, Map<String, Long>> distinctImages,
    long duplicateGroups,
    long duplicateFiles,
    long conflictingLabels) {

  /** Whether every row is a distinct image, so the row counts equal {@link #distinctImages}. */
  public boolean rowsAreDistinct() {
    return duplicateFiles == 0;
  }

  /**
   * Rows per split, in split-name order; only known without duplicates ({@link
   * #rowsAreDistinct}), since the split of a duplicate's copies is decided per content.
   */
  public Map<String, Long> rowsPerSplit() {
    if (!rowsAreDistinct()) {
      throw new IllegalStateException(duplicateFiles + " duplicate rows: count the split's rows instead");
    }
    Map<String, Long> counts = new TreeMap<>();
    distinctImages.forEach((split, perLabel) -> counts.put(split, perLabel.values().stream().mapToLong(Long::longValue).sum()));
    return counts;
  }

  /**
   * Rows per split of {@code rows} (this split, e.g. as written and read back): from the counts
   * when every row is distinct, else one job over the rows.
   */
  public Map<String, Long> rowsPerSplit(Dataset<Row> rows) {
    if (rowsAreDistinct()) {
      return rowsPerSplit();
    }
    Map<String, Long> counts = new TreeMap<>();
    for (Row r : rows.groupBy(Columns.SPLIT).count().collectAsList()) {
      counts.put(r.getString(0), r.getLong(1));
    }
    return counts;
  }

  /**
   * The data-quality checks of {@code rows} (this split): from the counts when every row is a
   * distinct image, since then nothing is duplicated or filed under two labels, and the split,
   * which goes by content, cannot leak; else {@link DataQuality#of}'s passes over the rows.
   */
  public DataQuality quality(Dataset<Row> rows, int examples) {
    return rowsAreDistinct() ? DataQuality.ofDistinctImages(distinctImages) : DataQuality.of(rows, examples);
  }
}
