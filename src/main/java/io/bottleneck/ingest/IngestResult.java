package io.bottleneck.ingest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link ImageIngest#ingest} found. Both outputs read the decoded rows that ingest persisted
 * (one pass over the files yields both); {@link #close} releases them, after which the outputs
 * are recomputed (the files read and decoded again) if they are used.
 */
public final class IngestResult implements AutoCloseable {
  private final Dataset<Row> images;
  private final Dataset<Row> rejects;
  private final long listed;
  private final long accepted;
  private final long rejected;
  private final long skipped;
  private final List<String> emptyClassFolders;
  /** What {@link #close} runs to release the persisted rows; null when nothing was persisted. */
  private final Runnable release;

  /** A result that persisted nothing ({@link #close} does nothing); the accessors say what each value is. */
  public IngestResult(
      Dataset<Row> images,
      Dataset<Row> rejects,
      long listed,
      long accepted,
      long rejected,
      long skipped,
      List<String> emptyClassFolders) {
    this(images, rejects, listed, accepted, rejected, skipped, emptyClassFolders, null);
  }

  /** @param release unpersists the rows both outputs read, run by {@link #close} */
  IngestResult(
      Dataset<Row> images,
      Dataset<Row> rejects,
      long listed,
      long accepted,
      long rejected,
      long skipped,
      List<String> emptyClassFolders,
      Runnable release) {
    this.images = images;
    this.rejects = rejects;
    this.listed = listed;
    this.accepted = accepted;
    this.rejected = rejected;
    this.skipped = skipped;
    this.emptyClassFolders = List.copyOf(emptyClassFolders);
    this.release = release;
  }

  /** Accepted images: path, label, content_hash, size, width, height. */
  public Dataset<Row> images() {
    return images;
  }

  /** Rejected files and manifest rows: path, reason, size (null when missing). */
  public Dataset<Row> rejects() {
    return rejects;
  }

  /** Files found under the input, hidden ones not included. */
  public long listed() {
    return listed;
  }

  /** Rows of {@link #images}. */
  public long accepted() {
    return accepted;
  }

  /**
   * Rows of {@link #rejects}; includes manifest rows whose file is missing, which are not listed,
   * so {@code listed + missing == accepted + rejected}.
   */
  public long rejected() {
    return rejected;
  }

  /**
   * Hidden files, not listed: names starting with '.' or '_' ({@code .DS_Store}, {@code
   * _SUCCESS}), in-flight {@code ._COPYING_} uploads, and every file in a hidden folder.
   */
  public long skipped() {
    return skipped;
  }

  /**
   * With labels from folders, the class folders (first level under the input) that hold no
   * accepted image, sorted; empty otherwise.
   */
  public List<String> emptyClassFolders() {
    return emptyClassFolders;
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

  /** Unpersists the decoded rows both outputs read; closing again does nothing more. */
  @Override
  public void close() {
    if (release != null) {
      release.run();
    }
  }

  @Override
  public String toString() {
    return "IngestResult" + counts();
  }
}
