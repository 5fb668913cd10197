package io.bottleneck.ingest;

import static org.apache.spark.sql.functions.array_join;
import static org.apache.spark.sql.functions.array_sort;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_set;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Images;
import io.bottleneck.io.Schemas;
import io.bottleneck.io.UndecodableImageException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists the files under an input folder, labels them, and decodes each one on the executors to
 * tell images from rejects. Every listed file ends up in exactly one of the two outputs, with a
 * reason when rejected, so {@code listed == accepted + rejected}; with a manifest, its rows
 * without a file are rejected too and {@code listed + missing == accepted + rejected}.
 *
 * <p>Files are listed recursively with the Hadoop FileSystem API on the driver, so any Hadoop
 * URI works. As in Spark's file sources, files and folders whose names start with '.' or '_'
 * (and in-flight {@code ._COPYING_} uploads) are skipped: not listed, but counted as skipped
 * ({@code .DS_Store}, {@code _SUCCESS} and the like are not data, so not rejects either). With
 * labels from folders, class folders without an accepted image are reported: a folder that
 * yields no class is most likely a mistake. Spark's own file scan
 * is not used for reading because it silently drops zero-length files, which must be rejected
 * ("empty file") to be accounted for. Files are read and decoded once, on the executors, in one
 * pass that yields both outputs from a persisted dataset; the bytes are not kept (later stages
 * re-read the files by path).
 */
public final class ImageIngest {
  private ImageIngest() {}

  private static final Logger LOG = LoggerFactory.getLogger(ImageIngest.class);

  static final String NOT_IN_MANIFEST = "not in manifest";
  static final String MISSING = "listed in manifest but missing";
  static final String NO_MANIFEST_LABEL = "no label in manifest";
  static final String CONFLICTING_LABELS = "conflicting labels in manifest: ";

  /** Schema of {@link IngestResult#images()}. */
  public static final StructType IMAGES_SCHEMA =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType, false)
          .add(Columns.LABEL, DataTypes.StringType, true)
          .add(Columns.CONTENT_HASH, DataTypes.StringType, true)
          .add(Columns.SIZE, DataTypes.LongType, true)
          .add(Columns.WIDTH, DataTypes.IntegerType, true)
          .add(Columns.HEIGHT, DataTypes.IntegerType, true);

  /**
   * Files above this size are rejected unread: a file bigger than any image of
   * {@link Images#MAX_PIXELS} is not worth a task's memory.
   */
  public static final int MAX_FILE_BYTES = 256 << 20;

  private static final StructType LISTING =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType, false)
          .add(Columns.SIZE, DataTypes.LongType, false);

  /** Both outputs in one row: reason is null for an accepted image. */
  private static final StructType DECODED =
      IMAGES_SCHEMA.add(Columns.REASON, DataTypes.StringType, true);

  private static final String MANIFEST_PATH = "manifest_path";
  private static final String MANIFEST_LABELS = "manifest_labels";
  private static final String JOIN_KEY = "join_key";

  /**
   * Ingests every file under {@code inputUri} (a directory on any Hadoop file system).
   *
   * @throws IllegalArgumentException if the input does not exist, is not a directory or holds no
   *     files, or the manifest is missing or lacks a path or label column
   */
  public static IngestResult ingest(SparkSession spark, String inputUri, LabelSource labels) {
    return ingest(spark, inputUri, labels, true);
  }

  /**
   * As {@link #ingest(SparkSession, String, LabelSource)}; width and height are those of the
   * upright image when {@code exifOrientation} (a JPEG tagged 6 or 8 swaps them).
   */
  public static IngestResult ingest(SparkSession spark, String inputUri, LabelSource labels, boolean exifOrientation) {
    Objects.requireNonNull(spark, "spark");
    Objects.requireNonNull(labels, "labels");
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Path root = inputDirectory(inputUri, conf);
    // Check the manifest before the expensive pass over the images.
    Dataset<Row> manifest =
        labels instanceof LabelSource.Manifest m
            ? readManifest(spark, m.csvUri(), root, conf)
            : null;

    List<Row> listing = new ArrayList<>();
    long skipped = list(root, conf, listing);
    long listed = listing.size();
    if (listed == 0) {
      throw new IllegalArgumentException(
          "Input " + inputUri + " has no files (names starting with '.' or '_' are skipped)");
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Map<String, String>> hadoopConf = jsc.broadcast(settings(conf));
    Dataset<Row> files =
        spark.createDataFrame(jsc.parallelize(listing, partitions(spark, listing)), LISTING);
    Dataset<Row> decoded =
        files.mapPartitions(
            new Decode(labels, root.toString(), hadoopConf, exifOrientation), Encoders.row(DECODED));
    Dataset<Row> all =
        (manifest == null ? decoded : applyManifest(decoded, manifest))
            .persist(StorageLevel.MEMORY_AND_DISK());

    // One job decodes everything into the cache and counts; both outputs then read the cache.
    String previous = spark.sparkContext().getLocalProperty("spark.job.description");
    spark.sparkContext().setJobDescription("ingest " + inputUri);
    Row counts;
    try {
      counts =
          all.agg(
                  count(when(col(Columns.REASON).isNull(), lit(1))),
                  count(when(col(Columns.REASON).isNotNull(), lit(1))),
                  // the classes that got an image (a few names), for the empty class folders
                  labels instanceof LabelSource.Directory
                      ? collect_set(when(col(Columns.REASON).isNull(), col(Columns.LABEL)))
                      : lit(null).cast("array<string>"))
              .first();
    } finally {
      spark.sparkContext().setJobDescription(previous);
    }
    long nAccepted = counts.getLong(0);
    long nRejected = counts.getLong(1);
    long missing = nAccepted + nRejected - listed;
    if (missing < 0 || (manifest == null && missing != 0)) {
      throw new IllegalStateException(
          "Ingest lost track of files: listed " + listed + ", accepted " + nAccepted
              + ", rejected " + nRejected);
    }
    LOG.info(
        "Ingested {}: {} files listed, {} accepted, {} rejected{}, {} hidden skipped",
        inputUri, listed, nAccepted, nRejected,
        manifest == null ? "" : " (incl. " + missing + " manifest rows without a file)", skipped);
    List<String> emptyClassFolders = new ArrayList<>();
    if (labels instanceof LabelSource.Directory) {
      List<String> withImages = counts.getList(2);
      for (String folder : classFolders(root, conf)) {
        if (!withImages.contains(folder)) {
          emptyClassFolders.add(folder);
          LOG.warn("ingest: class folder {} has no images (no files, or none accepted); it gives no class", folder);
        }
      }
    }

    Dataset<Row> images =
        all.filter(col(Columns.REASON).isNull())
            .select(
                col(Columns.PATH), col(Columns.LABEL), col(Columns.CONTENT_HASH),
                col(Columns.SIZE), col(Columns.WIDTH), col(Columns.HEIGHT));
    Dataset<Row> rejects =
        all.filter(col(Columns.REASON).isNotNull())
            .select(col(Columns.PATH), col(Columns.REASON), col(Columns.SIZE));
    return new IngestResult(images, rejects, listed, nAccepted, nRejected, skipped, emptyClassFolders);
  }

  /** What {@link #ingestListed} decoded, backed by a persisted dataset that {@link #close()} frees. */
  public record Decoded(IngestResult result, Dataset<Row> cached) implements AutoCloseable {
    @Override
    public void close() {
      cached.unpersist();
    }
  }

  /**
   * Decodes files that someone else listed (the streaming source lists new files itself):
   * {@code listing} holds (path, size) rows of qualified URIs; each file ends up in exactly one
   * of the outputs, as in {@link #ingest}, unlabeled. {@code listed} counts the rows given.
   *
   * @param description the Spark job description of the decoding pass
   */
  public static Decoded ingestListed(
      SparkSession spark, List<Row> listing, boolean exifOrientation, String description) {
    Objects.requireNonNull(listing, "listing");
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Map<String, String>> hadoopConf = jsc.broadcast(settings(spark.sparkContext().hadoopConfiguration()));
    List<Row> rows = new ArrayList<>(listing);
    rows.sort(Comparator.comparing((Row r) -> r.getString(0)));
    Dataset<Row> files =
        spark.createDataFrame(jsc.parallelize(rows, Math.max(1, partitions(spark, rows))), LISTING);
    // labels are None: the root only matters for labels from folders
    Dataset<Row> all =
        files.mapPartitions(new Decode(new LabelSource.None(), "/", hadoopConf, exifOrientation), Encoders.row(DECODED))
            .persist(StorageLevel.MEMORY_AND_DISK());
    String previous = spark.sparkContext().getLocalProperty("spark.job.description");
    spark.sparkContext().setJobDescription(description);
    Row counts;
    try {
      counts =
          all.agg(count(when(col(Columns.REASON).isNull(), lit(1))), count(when(col(Columns.REASON).isNotNull(), lit(1))))
              .first();
    } finally {
      spark.sparkContext().setJobDescription(previous);
    }
    if (counts.getLong(0) + counts.getLong(1) != rows.size()) {
      throw new IllegalStateException(
          "Ingest lost track of files: listed " + rows.size() + ", accepted " + counts.getLong(0) + ", rejected "
              + counts.getLong(1));
    }
    Dataset<Row> images =
        all.filter(col(Columns.REASON).isNull())
            .select(
                col(Columns.PATH), col(Columns.LABEL), col(Columns.CONTENT_HASH),
                col(Columns.SIZE), col(Columns.WIDTH), col(Columns.HEIGHT));
    Dataset<Row> rejects =
        all.filter(col(Columns.REASON).isNotNull()).select(col(Columns.PATH), col(Columns.REASON), col(Columns.SIZE));
    return new Decoded(new IngestResult(images, rejects, rows.size(), counts.getLong(0), counts.getLong(1), 0, List.of()), all);
  }

  private static Path inputDirectory(String inputUri, Configuration conf) {
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
  private static long list(Path root, Configuration conf, List<Row> rows) {
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
  private static List<String> classFolders(Path root, Configuration conf) {
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

  /** Files per partition of the decoding pass and of ingest's outputs, at most. */
  static final long FILES_PER_PARTITION = 2_000;

  /**
   * Partitions of the decoding pass, which ingest's outputs keep: as many as Spark's file
   * sources would make by bytes, but no more than one per core or per
   * {@value #FILES_PER_PARTITION} files. Rows are small, and every later job over them pays a
   * task per partition (tens of ms each here): 500 images used to make 16.
   */
  private static int partitions(SparkSession spark, List<Row> listing) {
    long maxBytes = spark.sessionState().conf().filesMaxPartitionBytes();
    long openCost = spark.sessionState().conf().filesOpenCostInBytes();
    long weight = 0;
    for (Row r : listing) {
      weight += r.getLong(1) + openCost;
    }
    long bySize = (weight + maxBytes - 1) / maxBytes;
    return partitions(bySize, listing.size(), spark.sparkContext().defaultParallelism());
  }

  static int partitions(long bySize, long files, int parallelism) {
    long byCount = Math.max(parallelism, (files + FILES_PER_PARTITION - 1) / FILES_PER_PARTITION);
    return (int) Math.max(1, Math.min(files, Math.min(bySize, byCount)));
  }

  /** The driver's Hadoop settings, to rebuild the same Configuration on the executors. */
  private static Map<String, String> settings(Configuration conf) {
    Map<String, String> settings = new HashMap<>();
    for (Map.Entry<String, String> e : conf) {
      settings.put(e.getKey(), e.getValue());
    }
    return settings;
  }

  // ---------------------------------------------------------------------------------------------
  // Manifest

  /** Manifest rows grouped by resolved path: manifest_path, join_key, manifest_labels. */
  private static Dataset<Row> readManifest(
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
  private static Dataset<Row> applyManifest(Dataset<Row> decoded, Dataset<Row> manifest) {
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

  // ---------------------------------------------------------------------------------------------
  // Decoding on the executors

  /** (path, size) rows to {@link #DECODED} rows: reads, hashes and decodes each file. */
  private static final class Decode implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    private final LabelSource labels;
    private final String root;
    private final Broadcast<Map<String, String>> hadoopConf;
    private final boolean exifOrientation;

    Decode(LabelSource labels, String root, Broadcast<Map<String, String>> hadoopConf, boolean exifOrientation) {
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
      MessageDigest sha256 = sha256();
      HexFormat hex = HexFormat.of();
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return rows.hasNext();
        }

        @Override
        public Row next() {
          Row row = rows.next();
          return decode(row.getString(0), row.getLong(1), rootPath, conf, sha256, hex);
        }
      };
    }

    private Row decode(
        String path,
        long size,
        Path rootPath,
        Configuration conf,
        MessageDigest sha256,
        HexFormat hex) {
      Path file = new Path(path);
      PathLabels.Labeled labeled = PathLabels.labelOf(labels, file, rootPath);
      if (labeled.reason() != null) {
        return rejected(path, size, labeled.reason()); // not read: it cannot be used anyway
      }
      if (size == 0) {
        return rejected(path, size, "empty file");
      }
      if (size > MAX_FILE_BYTES) {
        return rejected(path, size, "file too large: " + size + " bytes");
      }
      byte[] bytes;
      try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
        bytes = in.readNBytes(MAX_FILE_BYTES + 1);
      } catch (FileNotFoundException e) {
        return rejected(path, size, "deleted during ingest");
      } catch (IOException e) {
        // Not the file's fault (network, permissions): fail the task so that Spark retries.
        throw new UncheckedIOException("Cannot read " + path, e);
      }
      if (bytes.length > MAX_FILE_BYTES) {
        return rejected(path, size, "file too large: grew beyond " + MAX_FILE_BYTES + " bytes");
      }
      try {
        int[] dims = Images.decodedSize(bytes, path, exifOrientation);
        String hash = hex.formatHex(sha256.digest(bytes));
        long length = bytes.length;
        return RowFactory.create(path, labeled.label(), hash, length, dims[0], dims[1], null);
      } catch (UndecodableImageException e) {
        return rejected(path, (long) bytes.length, e.reason());
      }
    }

    private static Row rejected(String path, long size, String reason) {
      return RowFactory.create(path, null, null, size, null, null, reason);
    }

    private static MessageDigest sha256() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("Every JVM provides SHA-256", e);
      }
    }
  }
}
