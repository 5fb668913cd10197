package io.bottleneck.ingest;

import io.bottleneck.io.Columns;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * What ingest lists on the driver with the Hadoop FileSystem API (so any Hadoop URI works): the
 * input folder, every data file under it with its size, and the class folders. As in Spark's file
 * sources, files and folders whose names start with '.' or '_' (and in-flight {@code ._COPYING_}
 * uploads) are hidden: not listed, but counted. Apart from {@link ImageIngest} because listing is
 * file-system work with its own rules, done before any Spark job.
 */
final class InputListing {
  /** Rows of {@link #files}: path, size. */
  static final StructType SCHEMA =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType, false)
          .add(Columns.SIZE, DataTypes.LongType, false);

  private InputListing() {}

  /**
   * The qualified path of the input folder.
   *
   * @throws IllegalArgumentException if it is empty, does not exist or is not a directory
   */
  static Path directory(String inputUri, Configuration conf) {
    if (inputUri == null || inputUri.isBlank()) {
      throw new IllegalArgumentException("Input URI must not be empty");
    }
    Path path = new Path(inputUri);
    try {
      FileSystem fs = path.getFileSystem(conf);
      if (!fs.exists(path)) {
        throw new IllegalArgumentException("Input " + inputUri + " does not exist");
      }
      FileStatus status = fs.getFileStatus(path);
      if (!status.isDirectory()) {
        throw new IllegalArgumentException(
            "Input " + inputUri + " is not a directory; ingest reads a folder of images");
      }
      return fs.makeQualified(path);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read input " + inputUri, e);
    }
  }

  /**
   * Adds (path, size) of every file under root that is not hidden to {@code rows}, sorted by
   * path, and returns the number of hidden files.
   */
  static long files(Path root, Configuration conf, List<Row> rows) {
    int rootDepth = root.depth();
    long[] skipped = {0};
    try {
      FileSystem fs = root.getFileSystem(conf);
      if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
        // listFiles would build a LocatedFileStatus per file, which copies the permissions,
        // which Hadoop's local file system (without its native library) reads by running
        // `ls -ld` once per file: 17 s of 2,002 forks for the development data.
        listLocal(fs, root, rootDepth, rows, skipped);
      } else {
        // One recursive listing: a flat, paged listing on object stores.
        RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
        while (it.hasNext()) {
          addIfData(it.next(), rootDepth, rows, skipped);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list input " + root, e);
    }
    rows.sort(Comparator.comparing((Row r) -> r.getString(0)));
    return skipped[0];
  }

  /** The names of the folders right under root that are not hidden: the class folders, sorted. */
  static List<String> classFolders(Path root, Configuration conf) {
    List<String> folders = new ArrayList<>();
    try {
      for (FileStatus status : root.getFileSystem(conf).listStatus(root)) {
        if (status.isDirectory() && !isHidden(status.getPath(), root.depth())) {
          folders.add(status.getPath().getName());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot list input " + root, e);
    }
    folders.sort(Comparator.naturalOrder());
    return folders;
  }

  /** Depth-first listing with plain statuses (path, length, kind only: no permission reads). */
  private static void listLocal(FileSystem fs, Path dir, int rootDepth, List<Row> rows, long[] skipped)
      throws IOException {
    for (FileStatus status : fs.listStatus(dir)) {
      if (status.isDirectory()) {
        listLocal(fs, status.getPath(), rootDepth, rows, skipped);
      } else {
        addIfData(status, rootDepth, rows, skipped);
      }
    }
  }

  private static void addIfData(FileStatus status, int rootDepth, List<Row> rows, long[] skipped) {
    if (!status.isFile()) {
      return;
    }
    if (isHidden(status.getPath(), rootDepth)) {
      skipped[0]++;
    } else {
      rows.add(RowFactory.create(status.getPath().toString(), status.getLen()));
    }
  }

  /** Spark's rule for data files: no '.' or '_' name, in-flight copy or folder on the way. */
  private static boolean isHidden(Path file, int rootDepth) {
    for (Path p = file; p != null && p.depth() > rootDepth; p = p.getParent()) {
      String name = p.getName();
      if (name.startsWith(".") || name.startsWith("_") || name.endsWith("._COPYING_")) {
        return true;
      }
    }
    return false;
  }
}
