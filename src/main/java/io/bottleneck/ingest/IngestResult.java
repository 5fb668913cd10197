package io.bottleneck.ingest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link ImageIngest#ingest} found.
 *
 * @param images accepted images: path, label, content_hash, size, width, height
 * @param rejects rejected files and manifest rows: path, reason, size (null when missing)
 * @param listed files found under the input, hidden ones not included
 * @param accepted rows of {@code images}
 * @param rejected rows of {@code rejects}; includes manifest rows whose file is missing, which are
 *     not listed, so {@code listed + missing == accepted + rejected}
 * @param skipped hidden files, not listed: names starting with '.' or '_' ({@code .DS_Store},
 *     {@code _SUCCESS}), in-flight {@code ._COPYING_} uploads, and every file in a hidden folder
 * @param emptyClassFolders with labels from folders, the class folders (first level under the
 *     input) that hold no accepted image, sorted; empty otherwise
 */
public record IngestResult(
    Dataset<Row> images,
    Dataset<Row> rejects,
    long listed,
    long accepted,
    long rejected,
    long skipped,
    List<String> emptyClassFolders) {

  public IngestResult {
    emptyClassFolders = List.copyOf(emptyClassFolders);
  }

  /** Manifest rows without a file: 0 unless labels come from a manifest. */
  public long missing() {
    return accepted + rejected - listed;
  }

  /**
   * The counts every command reports (ingest.json, summary.json, the report): listed, accepted,
   * rejected, skipped, and empty_class_folders when there are any.
   */
  public Map<String, Object> counts() {
    Map<String, Object> counts = new LinkedHashMap<>();
    counts.put("listed", listed);
    counts.put("accepted", accepted);
    counts.put("rejected", rejected);
    counts.put("skipped", skipped);
    if (!emptyClassFolders.isEmpty()) {
      counts.put("empty_class_folders", emptyClassFolders);
    }
    return counts;
  }
}
