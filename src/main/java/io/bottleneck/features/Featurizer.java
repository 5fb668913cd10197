package io.bottleneck.features;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Schemas;
import io.bottleneck.io.SerializableHadoopConf;
import io.bottleneck.nets.DeclaredBases;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.nets.Bases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bottleneck features for a dataset of images, through a Parquet cache keyed by content hash,
 * base id and preprocessing id: only images whose content the cache lacks are run through the
 * frozen base, on the executors, in fixed mini-batches, with the weights broadcast once.
 */
public final class Featurizer {
  private static final Logger LOG = LoggerFactory.getLogger(Featurizer.class);
  private static final ArrayType FEATURE_TYPE = DataTypes.createArrayType(DataTypes.FloatType, false);

  /** Schema of the cache and of what the executors produce. */
  public static final StructType FEATURE_SCHEMA =
      new StructType()
          .add(Columns.CONTENT_HASH, DataTypes.StringType, false)
          .add(Columns.FEATURES, FEATURE_TYPE, false);

  /**
   * What a featurization did; {@code featured} keeps every input column and adds features. It
   * is backed by datasets the featurizer persisted: {@link #close()} frees them.
   */
  public record Result(
      Dataset<Row> featured,
      String baseId,
      String engine,
      String preprocessingId,
      int featureSize,
      long distinctImages,
      long computed,
      long fromCache,
      double computeSeconds,
      String cacheLocation,
      Runnable release)
      implements AutoCloseable {

    public double imagesPerSecond() {
      return computeSeconds > 0 ? computed / computeSeconds : 0;
    }

    /**
     * Frees what the featurizer kept for {@link #featured()}: the cached join and computed rows,
     * and the broadcasts their lineage refers to. {@code featured} is unusable afterwards.
     */
    @Override
    public void close() {
      release.run();
    }
  }

  /** Target partition size in mini-batches when the partition count is not configured. */
  static final int BATCHES_PER_PARTITION = 8;
  /** Cadence of the progress log. */
  static final long PROGRESS_SECONDS = 10;

  private Featurizer() {}

  /** Fails unless {@code schema} can be featurized. */
  public static void checkSchema(StructType schema) {
    Schemas.requireColumn(schema, Columns.PATH, DataTypes.StringType);
    Schemas.requireColumn(schema, Columns.CONTENT_HASH, DataTypes.StringType);
    Schemas.requireAbsent(schema, Columns.FEATURES);
  }

  /** The cache folder for one base and preprocessing under the cache root. */
  public static String cacheLocation(String cacheRoot, String baseId, String preprocessingId) {
    return HadoopFiles.child(
        HadoopFiles.child(cacheRoot, "base=" + baseId), "prep=" + preprocessingId.replaceAll("[^A-Za-z0-9._-]", "_"));
  }

  /**
   * @param images rows with at least path and content_hash
   * @param cacheRoot root URI of the feature cache
   * @param partitions partitions for the computation; 0 = twice the default parallelism
   */
  public static Result featurize(
      SparkSession spark,
      Dataset<Row> images,
      String baseId,
      String cacheRoot,
      int batchSize,
      int partitions) {
    return featurize(spark, images, baseId, Bases.DEFAULT_ENGINE, cacheRoot, batchSize, partitions);
  }

  /**
   * As {@link #featurize(SparkSession, Dataset, String, String, int, int)} on the given engine.
   * Engines of one base give the same features (within 1e-4) and share its cache entries.
   */
  public static Result featurize(
      SparkSession spark,
      Dataset<Row> images,
      String baseId,
      String engine,
      String cacheRoot,
      int batchSize,
      int partitions) {
    return featurize(spark, images, baseId, engine, ImageView.ORIGINAL, cacheRoot, batchSize, partitions);
  }

  /**
   * Features of a {@link ImageView view} of the images, by a base or an ensemble of bases.
   *
   * @param baseSpec one base id, or several joined by '+' (see {@link Bases#parseSpec}): each
   *     base featurizes through its own cache and the vectors are concatenated in spec order
   * @param view which view of each image the bases see; each view has its own cache entries
   */
  public static Result featurize(
      SparkSession spark,
      Dataset<Row> images,
      String baseSpec,
      String engine,
      ImageView view,
      String cacheRoot,
      int batchSize,
      int partitions) {
    return featurize(spark, images, baseSpec, engine, view, cacheRoot, batchSize, partitions, true);
  }

  /**
   * Appended to a cache folder's name when images are turned upright by their Exif orientation:
   * the features of a tagged JPEG depend on the setting, and folders written before it existed
   * hold the stored orientation's.
   */
  static final String EXIF_SUFFIX = "+exif";

  /**
   * As {@link #featurize(SparkSession, Dataset, String, String, ImageView, String, int, int)};
   * {@code exifOrientation} turns JPEGs upright by their Exif orientation before the view
   * applies (see {@link io.bottleneck.io.ExifOrientation}). The setting has its own cache
   * folders but not its own preprocessing id: a model trained with one setting scores images
   * decoded with the other.
   */
  public static Result featurize(
      SparkSession spark,
      Dataset<Row> images,
      String baseSpec,
      String engine,
      ImageView view,
      String cacheRoot,
      int batchSize,
      int partitions,
      boolean exifOrientation) {
    checkSchema(images.schema());
    List<String> ids = Bases.parseSpec(baseSpec);
    if (ids.size() == 1) {
      return featurizeOne(spark, images, ids.get(0), engine, view, cacheRoot, batchSize, partitions, exifOrientation);
    }
    List<Result> parts = new ArrayList<>();
    try {
      for (String id : ids) {
        parts.add(featurizeOne(spark, images, id, engine, view, cacheRoot, batchSize, partitions, exifOrientation));
      }
    } catch (RuntimeException e) {
      parts.forEach(Result::close);
      throw e;
    }
    return concatenate(baseSpec, engine, parts);
  }

  /** Separates the preprocessing ids of an ensemble's bases in its combined id. */
  static final String ENSEMBLE_SEPARATOR = ";";

  /**
   * The first part's rows with every part's features concatenated (in part order), joined by
   * content hash; the counts are those of all parts together.
   */
  private static Result concatenate(String baseSpec, String engine, List<Result> parts) {
    Result first = parts.get(0);
    Dataset<Row> combined = first.featured();
    String[] names = combined.columns();
    int featureSize = first.featureSize();
    long computed = first.computed();
    long fromCache = first.fromCache();
    double seconds = first.computeSeconds();
    List<String> preprocessing = new ArrayList<>(List.of(first.preprocessingId()));
    List<String> caches = new ArrayList<>(List.of(first.cacheLocation()));
    for (int p = 1; p < parts.size(); p++) {
      Result part = parts.get(p);
      String hash = "_ensemble_hash" + p;
      String features = "_ensemble_features" + p;
      Dataset<Row> other =
          part.featured()
              .select(col(Columns.CONTENT_HASH).as(hash), col(Columns.FEATURES).as(features))
              .dropDuplicates(hash);
      Dataset<Row> joined = combined.join(other, combined.col(Columns.CONTENT_HASH).equalTo(other.col(hash)));
      Column[] out = new Column[names.length];
      for (int i = 0; i < names.length; i++) {
        out[i] =
            names[i].equals(Columns.FEATURES)
                ? concat(joined.col(Columns.FEATURES), joined.col(features)).as(Columns.FEATURES)
                : joined.col(names[i]);
      }
      combined = joined.select(out);
      featureSize += part.featureSize();
      computed += part.computed();
      fromCache += part.fromCache();
      seconds += part.computeSeconds();
      preprocessing.add(part.preprocessingId());
      caches.add(part.cacheLocation());
    }
    List<Result> all = List.copyOf(parts);
    return new Result(
        combined, baseSpec, engine, String.join(ENSEMBLE_SEPARATOR, preprocessing), featureSize,
        first.distinctImages(), computed, fromCache, seconds, String.join(",", caches),
        () -> all.forEach(Result::close));
  }

  private static Result featurizeOne(
      SparkSession spark,
      Dataset<Row> images,
      String baseId,
      String engine,
      ImageView view,
      String cacheRoot,
      int batchSize,
      int partitions,
      boolean exifOrientation) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive but was " + batchSize);
    }
    engine = Bases.engineOf(baseId, engine);
    BaseInfo info = BaseInfo.of(baseId, engine);
    String preprocessingId = info.preprocessingId() + view.cacheSuffix();
    String cacheDir = cacheLocation(cacheRoot, baseId, preprocessingId + (exifOrientation ? EXIF_SUFFIX : ""));
    var hadoopConf = spark.sparkContext().hadoopConfiguration();
    boolean cacheExists;
    try {
      cacheExists = HadoopFiles.hasData(cacheDir, hadoopConf);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read feature cache " + cacheDir, e);
    }

    // Every input row with its cached features (null where the cache lacks them), read and
    // joined once and persisted: that one result serves the counts and the output. Without a
    // cache there is nothing to join, and counting the input is all the work before computing.
    Dataset<Row> joined = cacheExists ? withCachedFeatures(spark, images, cacheDir) : null;
    long rows;
    long missingRows;
    long fromCache;
    if (joined == null) {
      rows = images.count();
      missingRows = rows;
      fromCache = 0;
    } else {
      // joined is partitioned by hash, so distinct hashes are counted per partition: the
      // counting pass is the one job that materializes the join.
      long[] counts =
          joined
              .select(col(Columns.CONTENT_HASH), col(Columns.FEATURES).isNull())
              .javaRDD()
              .mapPartitions(Featurizer::countPartition)
              .reduce(Featurizer::addCounts);
      rows = counts[0];
      missingRows = counts[1];
      fromCache = counts[2];
    }
    Runnable unpersist = joined == null ? () -> {} : joined::unpersist;

    if (missingRows == 0) {
      LOG.info(
          "featurize: all {} distinct images found in the cache {} ({} rows); nothing to compute",
          fromCache, cacheDir, rows);
      return new Result(joined == null ? images.withColumn(Columns.FEATURES, lit(null).cast(FEATURE_TYPE)) : joined,
          baseId, engine, preprocessingId, info.featureSize(),
          fromCache, 0, fromCache, 0, cacheDir, unpersist);
    }
    LOG.info(
        "featurize: {} of {} rows have no cached features ({} view); computing them with {} on {}",
        missingRows, rows, view, baseId, engine);
    long start = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // Small partitions (a few batches each) keep progress and retries fine-grained; a task
    // costs little since networks are pooled per executor thread.
    long batches = (missingRows + batchSize - 1) / batchSize;
    int parts =
        partitions > 0
            ? partitions
            : (int) Math.max(2L * jsc.defaultParallelism(), (batches + BATCHES_PER_PARTITION - 1) / BATCHES_PER_PARTITION);
    parts = (int) Math.max(1, Math.min(parts, batches));
    Dataset<Row> fresh = joined == null ? images : joined.where(col(Columns.FEATURES).isNull()).drop(Columns.FEATURES);
    // Partitioned by hash, so copies of one image meet in one partition and are computed once
    // (FeaturizePartition skips a hash it has seen) without a separate de-duplicating shuffle.
    // images given as bytes (a binary content column, as Spark's binaryFile source reads them)
    // travel with their rows; others are read from their path by the task
    boolean inline = java.util.Arrays.asList(fresh.columns()).contains(Columns.CONTENT);
    Dataset<Row> missing = (inline
        ? fresh.select(col(Columns.PATH), col(Columns.CONTENT_HASH), col(Columns.CONTENT))
        : fresh.select(Columns.PATH, Columns.CONTENT_HASH)).repartition(parts, col(Columns.CONTENT_HASH));
    LongAccumulator done = spark.sparkContext().longAccumulator("featurized images");
    ModelShipment weights = ModelShipment.of(jsc, baseId);
    Broadcast<SerializableHadoopConf> conf = jsc.broadcast(new SerializableHadoopConf(hadoopConf));
    // Each call writes its own folder of the cache, in the same job that computes: concurrent
    // runs never share a temporary folder, and the output reads this call's rows back from
    // there instead of keeping them in Spark's storage or re-reading the whole cache.
    String written = HadoopFiles.child(cacheDir, "batch-" + UUID.randomUUID());
    spark.sparkContext().setJobGroup("featurize", "featurize " + missingRows + " images with " + baseId, false);
    try (FeaturizeProgress progress = new FeaturizeProgress(done, missingRows, PROGRESS_SECONDS)) {
      missing
          .mapPartitions(
              new FeaturizePartition(
                  baseId, engine, DeclaredBases.get(baseId), weights, conf, batchSize, view, exifOrientation, done),
              Encoders.row(FEATURE_SCHEMA))
          .write()
          .mode(SaveMode.ErrorIfExists)
          .parquet(written);
    } catch (RuntimeException e) {
      unpersist.run();
      throw e;
    } finally {
      spark.sparkContext().clearJobGroup();
      // Nothing runs on them again: the output's lineage starts at the written files.
      weights.destroy();
      conf.destroy();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    // Updated in the write's own (result) stage, so Spark applies each task's update once,
    // from its successful attempt: a retried task is not counted twice.
    long computed = done.value();
    LOG.info(
        "featurize: computed {} distinct images in {} s ({} images/s); {} from the cache",
        computed,
        String.format("%.1f", seconds),
        String.format("%.1f", computed / seconds),
        fromCache);

    Dataset<Row> computedFeatures = spark.read().schema(FEATURE_SCHEMA).parquet(written);
    Dataset<Row> computedRows =
        fresh
            .join(computedFeatures, fresh.col(Columns.CONTENT_HASH).equalTo(computedFeatures.col(Columns.CONTENT_HASH)))
            .select(withFeatures(fresh, computedFeatures.col(Columns.FEATURES)));
    Dataset<Row> featured =
        joined == null
            ? computedRows
            : joined.where(col(Columns.FEATURES).isNotNull()).unionByName(computedRows);
    return new Result(featured, baseId, engine, preprocessingId, info.featureSize(),
        fromCache + computed, computed, fromCache, seconds, cacheDir, unpersist);
  }

  /**
   * Every cache entry under {@code cacheDir}: the folders each featurization writes, and files
   * at the top level as earlier versions wrote them. May hold an image more than once (runs
   * featurizing the same new image at the same time each write it).
   */
  public static Dataset<Row> readCache(SparkSession spark, String cacheDir) {
    return spark.read().schema(FEATURE_SCHEMA).option("recursiveFileLookup", "true").parquet(cacheDir);
  }

  /**
   * Every row of {@code images} with its cached features, null where the cache lacks them,
   * persisted and hash-partitioned by content hash (both sides are shuffled by it for the join
   * anyway; the input, the streamed side, keeps that partitioning even if the join is turned
   * into a broadcast join).
   */
  private static Dataset<Row> withCachedFeatures(SparkSession spark, Dataset<Row> images, String cacheDir) {
    int parts = Math.max(spark.sparkContext().defaultParallelism(), images.rdd().getNumPartitions());
    Dataset<Row> input = images.repartition(parts, col(Columns.CONTENT_HASH));
    // Concurrent runs may both write the same image; the cache keeps whichever came first.
    Dataset<Row> cache =
        readCache(spark, cacheDir).repartition(parts, col(Columns.CONTENT_HASH)).dropDuplicates(Columns.CONTENT_HASH);
    return input
        .join(cache, input.col(Columns.CONTENT_HASH).equalTo(cache.col(Columns.CONTENT_HASH)), "left_outer")
        .select(withFeatures(input, cache.col(Columns.FEATURES)))
        .persist(StorageLevel.MEMORY_AND_DISK());
  }

  /**
   * Rows, rows without features and distinct hashes with features of one partition of
   * (content_hash, features-is-null) rows; exact overall when partitioned by hash.
   */
  private static Iterator<long[]> countPartition(Iterator<Row> rows) {
    long all = 0;
    long missing = 0;
    Set<String> cached = new HashSet<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      all++;
      if (r.getBoolean(1)) {
        missing++;
      } else {
        cached.add(r.getString(0));
      }
    }
    return List.of(new long[] {all, missing, cached.size()}).iterator();
  }

  private static long[] addCounts(long[] a, long[] b) {
    return new long[] {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
  }

  /** The columns of {@code input} (in order) followed by {@code features}. */
  private static Column[] withFeatures(Dataset<Row> input, Column features) {
    String[] names = input.columns();
    Column[] out = new Column[names.length + 1];
    for (int i = 0; i < names.length; i++) {
      out[i] = input.col(names[i]);
    }
    out[names.length] = features.as(Columns.FEATURES);
    return out;
  }
}
