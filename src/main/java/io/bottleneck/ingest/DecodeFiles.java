package io.bottleneck.ingest;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Images;
import io.bottleneck.io.Sha256;
import io.bottleneck.io.UndecodableImageException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.Iterator;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Ingest's pass on the executors: (path, size) rows of {@link InputListing#SCHEMA} to {@link
 * #SCHEMA} rows. Each file is labeled from its path, read, hashed and decoded (dimensions only);
 * a file that cannot be used becomes a reject with its reason (empty, too large, deleted, not an
 * image), while a read failure that is not the file's fault fails the task so that Spark retries.
 */
final class DecodeFiles implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;

  /** Both outputs in one row: the images' columns, and reason, null for an accepted image. */
  static final StructType SCHEMA =
      ImageIngest.IMAGES_SCHEMA.add(Columns.REASON, DataTypes.StringType, true);

  private final LabelSource labels;
  private final String root;
  private final Broadcast<Map<String, String>> hadoopConf;
  private final boolean exifOrientation;

  DecodeFiles(LabelSource labels, String root, Broadcast<Map<String, String>> hadoopConf, boolean exifOrientation) {
    this.labels = labels;
    this.root = root;
    this.hadoopConf = hadoopConf;
    this.exifOrientation = exifOrientation;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    Path rootPath = new Path(root);
    Configuration conf = new Configuration(false);
    hadoopConf.value().forEach(conf::set);
    MessageDigest sha256 = Sha256.digest();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        Row row = rows.next();
        return decode(row.getString(0), row.getLong(1), rootPath, conf, sha256);
      }
    };
  }

  private Row decode(
      String path,
      long size,
      Path rootPath,
      Configuration conf,
      MessageDigest sha256) {
    Path file = new Path(path);
    PathLabels.Labeled labeled = PathLabels.labelOf(labels, file, rootPath);
    if (labeled.reason() != null) {
      return rejected(path, size, labeled.reason()); // not read: it cannot be used anyway
    }
    if (size == 0) {
      return rejected(path, size, "empty file");
    }
    if (size > ImageIngest.MAX_FILE_BYTES) {
      return rejected(path, size, "file too large: " + size + " bytes");
    }
    byte[] bytes;
    try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
      bytes = in.readNBytes(ImageIngest.MAX_FILE_BYTES + 1);
    } catch (FileNotFoundException e) {
      return rejected(path, size, "deleted during ingest");
    } catch (IOException e) {
      // Not the file's fault (network, permissions): fail the task so that Spark retries.
      throw new UncheckedIOException("Cannot read " + path, e);
    }
    if (bytes.length > ImageIngest.MAX_FILE_BYTES) {
      return rejected(path, size, "file too large: grew beyond " + ImageIngest.MAX_FILE_BYTES + " bytes");
    }
    try {
      int[] dims = Images.decodedSize(bytes, path, exifOrientation);
      String hash = Sha256.hex(sha256, bytes);
      long length = bytes.length;
      return RowFactory.create(path, labeled.label(), hash, length, dims[0], dims[1], null);
    } catch (UndecodableImageException e) {
      return rejected(path, (long) bytes.length, e.reason());
    }
  }

  private static Row rejected(String path, long size, String reason) {
    return RowFactory.create(path, null, null, size, null, null, reason);
  }
}
