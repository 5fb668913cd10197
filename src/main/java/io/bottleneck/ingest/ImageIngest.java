package io.bottleneck.ingest;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Images;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
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
 * RDD pass whose persisted rows both outputs read; the bytes are not kept (later stages re-read
 * the files by path).
 *
 * <p>This class runs the stage; the parts have their own classes: {@link InputListing} (the
 * folder, its data files and class folders), {@link DecodeFiles} (the pass on the executors) and
 * {@link ManifestLabels} (labels from a manifest).
 */
public final class ImageIngest {
  private ImageIngest() {}

  private static final Logger LOG = LoggerFactory.getLogger(ImageIngest.class);

  /** Schema of {@link IngestResult#images()} (labels from a manifest make the path nullable). */
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

  /**
   * Ingests every file under {@code inputUri} (a directory on any Hadoop file system). The result
   * holds persisted rows: close it when its outputs are no longer needed.
   *
   * @throws IllegalArgumentException if the input does not exist, is not a directory or holds no
   *     files, or the manifest is missing or lacks a path or label column
   */
  public static IngestResult ingest(SparkSession spark, String inputUri, LabelSource labels) {
    return ingest(spark, inputUri, labels, true);
  }

  /**
   * As {@link #ingest(SparkSession, String, LabelSource, boolean)} with the commands' settings:
   * {@code input} a URI or a local path (qualified on the session's file systems), {@code
   * labelFrom} as the label-from key spells it (dir, filename, manifest:URI, none).
   */
  public static IngestResult ingest(SparkSession spark, String input, String labelFrom, boolean exifOrientation) {
    return ingest(spark, HadoopFiles.qualify(input, spark), LabelSource.parse(labelFrom), exifOrientation);
  }

  /**
   * As {@link #ingest(SparkSession, String, LabelSource)}; width and height are those of the
   * upright image when {@code exifOrientation} (a JPEG tagged 6 or 8 swaps them).
   */
  public static IngestResult ingest(SparkSession spark, String inputUri, LabelSource labels, boolean exifOrientation) {
    Objects.requireNonNull(spark, "spark");
    Objects.requireNonNull(labels, "labels");
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    Path root = InputListing.directory(inputUri, conf);
    // Check the manifest before the expensive pass over the images.
    Dataset<Row> manifest =
        labels instanceof LabelSource.Manifest m
            ? ManifestLabels.read(spark, m.csvUri(), root, conf)
            : null;

    List<Row> listing = new ArrayList<>();
    long skipped = InputListing.files(root, conf, listing);
    long listed = listing.size();
    if (listed == 0) {
      throw new IllegalArgumentException(
          "Input " + inputUri + " has no files (names starting with '.' or '_' are skipped)");
    }
    JavaRDD<Row> decoded = decode(spark, listing, labels, root.toString(), exifOrientation);
    StructType schema = DecodeFiles.SCHEMA;
    if (manifest != null) {
      Dataset<Row> joined = ManifestLabels.apply(spark.createDataFrame(decoded, DecodeFiles.SCHEMA), manifest);
      schema = joined.schema();
      decoded = joined.javaRDD();
    }
    JavaRDD<Row> all = decoded.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One job decodes everything into the cache and counts; both outputs then read the cache.
      Tally counts = Tally.of(all, schema, "ingest " + inputUri);
      long nAccepted = counts.accepted;
      long nRejected = counts.rejected;
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
        java.util.Set<String> withImages = counts.labels;
        for (String folder : InputListing.classFolders(root, conf)) {
          if (!withImages.contains(folder)) {
            emptyClassFolders.add(folder);
            LOG.warn("ingest: class folder {} has no images (no files, or none accepted); it gives no class", folder);
          }
        }
      }
      return result(spark, all, schema, counts, listed, skipped, emptyClassFolders);
    } catch (RuntimeException e) {
      all.unpersist(); // the result that would release it is never returned
      throw e;
    }
  }

  /**
   * Decodes files that someone else listed (the streaming source lists new files itself):
   * {@code listing} holds (path, size) rows of qualified URIs; each file ends up in exactly one
   * of the outputs, as in {@link #ingest}, unlabeled. {@code listed} counts the rows given. The
   * result holds persisted rows: close it when its outputs are no longer needed.
   *
   * @param description the Spark job description of the decoding pass
   */
  public static IngestResult ingestListed(
      SparkSession spark, List<Row> listing, boolean exifOrientation, String description) {
    Objects.requireNonNull(listing, "listing");
    List<Row> rows = new ArrayList<>(listing);
    rows.sort(Comparator.comparing((Row r) -> r.getString(0)));
    // labels are None: the root only matters for labels from folders
    JavaRDD<Row> all =
        decode(spark, rows, new LabelSource.None(), "/", exifOrientation).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Tally counts = Tally.of(all, DecodeFiles.SCHEMA, description);
      if (counts.accepted + counts.rejected != rows.size()) {
        throw new IllegalStateException(
            "Ingest lost track of files: listed " + rows.size() + ", accepted " + counts.accepted + ", rejected "
                + counts.rejected);
      }
      return result(spark, all, DecodeFiles.SCHEMA, counts, rows.size(), 0, List.of());
    } catch (RuntimeException e) {
      all.unpersist();
      throw e;
    }
  }

  /**
   * The pass over the files as an RDD of {@link DecodeFiles#SCHEMA} rows. An RDD rather than a
   * query: in a fresh JVM, planning the query and generating the code of its cached relation took
   * longer than decoding the 80 sample images (~2 s of the ingest stage's 3.5 s), and the rows
   * need nothing of SQL until the outputs are read.
   */
  private static JavaRDD<Row> decode(
      SparkSession spark, List<Row> listing, LabelSource labels, String root, boolean exifOrientation) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Map<String, String>> hadoopConf = jsc.broadcast(settings(spark.sparkContext().hadoopConfiguration()));
    DecodeFiles decode = new DecodeFiles(labels, root, hadoopConf, exifOrientation);
    return jsc.parallelize(listing, partitions(spark, listing)).mapPartitions(decode::call);
  }

  /**
   * Both outputs as DataFrames over the persisted rows ({@code all}, of {@code schema}), which the
   * result releases when closed. Without rejects, the rejects table is an empty table of its
   * schema: writing it then scans nothing.
   */
  private static IngestResult result(
      SparkSession spark, JavaRDD<Row> all, StructType schema, Tally counts, long listed, long skipped,
      List<String> emptyClassFolders) {
    Dataset<Row> images =
        columns(spark, all, schema, true, Columns.PATH, Columns.LABEL, Columns.CONTENT_HASH, Columns.SIZE,
            Columns.WIDTH, Columns.HEIGHT);
    Dataset<Row> rejects = columns(spark, all, schema, false, Columns.PATH, Columns.REASON, Columns.SIZE);
    if (counts.rejected == 0) {
      rejects = spark.createDataFrame(List.of(), rejects.schema());
    }
    return new IngestResult(
        images, rejects, listed, counts.accepted, counts.rejected, skipped, emptyClassFolders, all::unpersist);
  }

  /** The accepted (or rejected) rows of {@code all}, with the named columns of {@code schema}. */
  private static Dataset<Row> columns(
      SparkSession spark, JavaRDD<Row> all, StructType schema, boolean accepted, String... names) {
    int reason = schema.fieldIndex(Columns.REASON);
    int[] picked = new int[names.length];
    StructType picks = new StructType();
    for (int i = 0; i < names.length; i++) {
      picked[i] = schema.fieldIndex(names[i]);
      picks = picks.add(schema.fields()[picked[i]]);
    }
    JavaRDD<Row> rows =
        all.filter(r -> r.isNullAt(reason) == accepted)
            .map(r -> {
              Object[] values = new Object[picked.length];
              for (int i = 0; i < picked.length; i++) {
                values[i] = r.get(picked[i]);
              }
              return RowFactory.create(values);
            });
    return spark.createDataFrame(rows, picks);
  }

  /**
   * Accepted and rejected rows, and the labels of the accepted ones (the classes that got an
   * image: a few names), counted in the one job that also fills the persisted rows.
   */
  static final class Tally implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    long accepted;
    long rejected;
    final java.util.TreeSet<String> labels = new java.util.TreeSet<>();

    static Tally of(JavaRDD<Row> rows, StructType schema, String description) {
      int reason = schema.fieldIndex(Columns.REASON);
      int label = schema.fieldIndex(Columns.LABEL);
      SparkContext sc = rows.context();
      String previous = sc.getLocalProperty("spark.job.description");
      sc.setJobDescription(description);
      try {
        return rows.mapPartitions(
                (java.util.Iterator<Row> it) -> {
                  Tally t = new Tally();
                  while (it.hasNext()) {
                    Row r = it.next();
                    if (r.isNullAt(reason)) {
                      t.accepted++;
                      if (!r.isNullAt(label)) {
                        t.labels.add(r.getString(label));
                      }
                    } else {
                      t.rejected++;
                    }
                  }
                  return List.of(t).iterator();
                })
            .reduce(Tally::plus);
      } finally {
        sc.setJobDescription(previous);
      }
    }

    private Tally plus(Tally other) {
      Tally sum = new Tally();
      sum.accepted = accepted + other.accepted;
      sum.rejected = rejected + other.rejected;
      sum.labels.addAll(labels);
      sum.labels.addAll(other.labels);
      return sum;
    }
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
}
