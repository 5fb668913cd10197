package io.bottleneck.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Images;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
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
 * pass that yields both outputs from a persisted dataset; the bytes are not kept (later stages
 * re-read the files by path).
 *
 * <p>This class runs the stage; the parts have their own classes: {@link InputListing} (the
 * folder, its data files and class folders), {@link DecodeFiles} (the pass on the executors) and
 * {@link ManifestLabels} (labels from a manifest).
 */
public final class ImageIngest {
  private ImageIngest() {}

  private static final Logger LOG = LoggerFactory.getLogger(ImageIngest.class);

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
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Map<String, String>> hadoopConf = jsc.broadcast(settings(conf));
    Dataset<Row> files =
        spark.createDataFrame(jsc.parallelize(listing, partitions(spark, listing)), InputListing.SCHEMA);
    Dataset<Row> decoded =
        files.mapPartitions(
            new DecodeFiles(labels, root.toString(), hadoopConf, exifOrientation),
            Encoders.row(DecodeFiles.SCHEMA));
    Dataset<Row> all =
        (manifest == null ? decoded : ManifestLabels.apply(decoded, manifest))
            .persist(StorageLevel.MEMORY_AND_DISK());

    try {
      // One job decodes everything into the cache and counts; both outputs then read the cache.
      String previous = spark.sparkContext().getLocalProperty("spark.job.description");
      spark.sparkContext().setJobDescription("ingest " + inputUri);
      Tally counts;
      try {
        counts = Tally.of(all);
      } finally {
        spark.sparkContext().setJobDescription(previous);
      }
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

      Dataset<Row> images =
          all.filter(col(Columns.REASON).isNull())
              .select(
                  col(Columns.PATH), col(Columns.LABEL), col(Columns.CONTENT_HASH),
                  col(Columns.SIZE), col(Columns.WIDTH), col(Columns.HEIGHT));
      Dataset<Row> rejects =
          rejectsOf(all.filter(col(Columns.REASON).isNotNull())
              .select(col(Columns.PATH), col(Columns.REASON), col(Columns.SIZE)), nRejected);
      return new IngestResult(images, rejects, listed, nAccepted, nRejected, skipped, emptyClassFolders, all);
    } catch (RuntimeException e) {
      all.unpersist(); // the result that would release it is never returned
      throw e;
    }
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
    java.util.Objects.requireNonNull(listing, "listing");
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Map<String, String>> hadoopConf = jsc.broadcast(settings(spark.sparkContext().hadoopConfiguration()));
    List<Row> rows = new java.util.ArrayList<>(listing);
    rows.sort(java.util.Comparator.comparing((Row r) -> r.getString(0)));
    Dataset<Row> files =
        spark.createDataFrame(jsc.parallelize(rows, Math.max(1, partitions(spark, rows))), InputListing.SCHEMA);
    // labels are None: the root only matters for labels from folders
    Dataset<Row> all =
        files.mapPartitions(new DecodeFiles(new LabelSource.None(), "/", hadoopConf, exifOrientation),
                Encoders.row(DecodeFiles.SCHEMA))
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
        rejectsOf(
            all.filter(col(Columns.REASON).isNotNull()).select(col(Columns.PATH), col(Columns.REASON), col(Columns.SIZE)),
            counts.getLong(1));
    return new Decoded(new IngestResult(images, rejects, rows.size(), counts.getLong(0), counts.getLong(1), 0, List.of()), all);
  }

  /**
   * The rejects query, or without rejects an empty table of its schema: writing it then plans
   * and scans nothing (on the sample, the write of the query over the cached rows was 0.8 s).
   */
  private static Dataset<Row> rejectsOf(Dataset<Row> query, long rejected) {
    return rejected > 0 ? query : query.sparkSession().createDataFrame(List.of(), query.schema());
  }

  /**
   * Accepted and rejected rows, and the labels of the accepted ones (the classes that got an
   * image: a few names), counted in the one job that also fills the persisted rows: an RDD pass,
   * as a query's aggregation would take three jobs here (the cache, the exchange, the result).
   */
  static final class Tally implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    long accepted;
    long rejected;
    final java.util.TreeSet<String> labels = new java.util.TreeSet<>();

    static Tally of(Dataset<Row> rows) {
      int reason = rows.schema().fieldIndex(Columns.REASON);
      int label = rows.schema().fieldIndex(Columns.LABEL);
      return rows.javaRDD()
          .mapPartitions(
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
