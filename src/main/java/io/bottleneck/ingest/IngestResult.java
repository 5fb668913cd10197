package io.bottleneck.ingest;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What {@link ImageIngest#ingest} found.
 *
 * @param images accepted images: path, label, content_hash, size, width, height
 * @param rejects rejected files and manifest rows: path, reason, size (null when missing)
 * @param listed files found under the input
 * @param accepted rows of {@code images}
 * @param rejected rows of {@code rejects}; includes manifest rows whose file is missing, which are
 *     not listed, so {@code listed + missing == accepted + rejected}
 */
public record IngestResult(
    Dataset<Row> images, Dataset<Row> rejects, long listed, long accepted, long rejected) {

  /** Manifest rows without a file: 0 unless labels come from a manifest. */
  public long missing() {
    return accepted + rejected - listed;
  }
}
