package io.bottleneck.features;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Schemas;
import io.bottleneck.io.SerializableHadoopConf;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.io.UncheckedIOException;
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
    checkSchema(images.schema());
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive but was " + batchSize);
    }
    BaseInfo info = BaseInfo.of(baseId, engine);
    String cacheDir = cacheLocation(cacheRoot, baseId, info.preprocessingId());
    var hadoopConf = spark.sparkContext().hadoopConfiguration();
    boolean cacheExists;
    try {
      cacheExists = HadoopFiles.hasData(cacheDir, hadoopConf);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read feature cache " + cacheDir, e);
    }

    // Every input row with its cached features (null where the cache lacks them): the cache is
    // read and joined once, and that one result serves both the counts and the output.
    Dataset<Row> joined = withCachedFeatures(spark, images, cacheDir, cacheExists);
    Row counts =
        joined
            .select(col(Columns.CONTENT_HASH), col(Columns.FEATURES).isNull().as("missing"))
            .dropDuplicates(Columns.CONTENT_HASH)
            .agg(count(lit(1)), sum(when(col("missing"), 1L).otherwise(0L)))
            .first();
    long distinctCount = counts.getLong(0);
    long missingCount = counts.isNullAt(1) ? 0 : counts.getLong(1);

    if (missingCount == 0) {
      LOG.info(
          "featurize: all {} distinct images found in the cache {}; nothing to compute",
          distinctCount, cacheDir);
      return new Result(joined, baseId, engine, info.preprocessingId(), info.featureSize(),
          distinctCount, 0, distinctCount, 0, cacheDir, joined::unpersist);
    }
    LOG.info(
        "featurize: {} of {} distinct images not in the cache; computing them with {} on {}",
        missingCount, distinctCount, baseId, engine);
    long start = System.nanoTime();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // Small partitions (a few batches each) keep progress and retries fine-grained; a task
    // costs little since networks are pooled per executor thread.
    long batches = (missingCount + batchSize - 1) / batchSize;
    int parts =
        partitions > 0
            ? partitions
            : (int) Math.max(2L * jsc.defaultParallelism(), (batches + BATCHES_PER_PARTITION - 1) / BATCHES_PER_PARTITION);
    parts = (int) Math.max(1, Math.min(parts, batches));
    Dataset<Row> missing =
        joined.where(col(Columns.FEATURES).isNull())
            .select(Columns.PATH, Columns.CONTENT_HASH)
            .dropDuplicates(Columns.CONTENT_HASH);
    LongAccumulator done = spark.sparkContext().longAccumulator("featurized images");
    Broadcast<byte[]> weights = jsc.broadcast(Bases.weights(baseId));
    Broadcast<SerializableHadoopConf> conf = jsc.broadcast(new SerializableHadoopConf(hadoopConf));
    // Kept (on disk: executor memory must not grow with the input) so the output below reuses
    // the computed rows instead of reading them back from a cache that may hold far more.
    Dataset<Row> computed =
        missing
            .repartition(parts)
            .mapPartitions(
                new FeaturizePartition(baseId, engine, weights, conf, batchSize, done),
                Encoders.row(FEATURE_SCHEMA))
            .persist(StorageLevel.DISK_ONLY());
    spark.sparkContext().setJobGroup("featurize", "featurize " + missingCount + " images with " + baseId, false);
    try (FeaturizeProgress progress = new FeaturizeProgress(done, missingCount, PROGRESS_SECONDS)) {
      computed.write().mode(SaveMode.Append).parquet(cacheDir);
    } catch (RuntimeException e) {
      release(joined, computed, weights, conf);
      throw e;
    } finally {
      spark.sparkContext().clearJobGroup();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (done.value() != missingCount) {
      // the accumulator counts each task attempt: more means retried tasks, fewer a lost write
      LOG.warn("featurize: {} images were featurized for {} missing ones (task retries?)", done.value(), missingCount);
    }
    LOG.info(
        "featurize: computed {} images in {} s ({} images/s); {} from the cache",
        missingCount,
        String.format("%.1f", seconds),
        String.format("%.1f", missingCount / seconds),
        distinctCount - missingCount);

    Dataset<Row> fresh = joined.where(col(Columns.FEATURES).isNull()).drop(Columns.FEATURES);
    Dataset<Row> computedRows =
        fresh
            .join(computed, fresh.col(Columns.CONTENT_HASH).equalTo(computed.col(Columns.CONTENT_HASH)))
            .select(withFeatures(fresh, computed.col(Columns.FEATURES)));
    Dataset<Row> featured =
        cacheExists
            ? joined.where(col(Columns.FEATURES).isNotNull()).unionByName(computedRows)
            : computedRows;
    return new Result(featured, baseId, engine, info.preprocessingId(), info.featureSize(),
        distinctCount, missingCount, distinctCount - missingCount, seconds, cacheDir,
        () -> release(joined, computed, weights, conf));
  }

  /**
   * Every row of {@code images} with its cached features, null where the cache lacks them
   * (persisted when there is a cache to read, so it is read and joined once).
   */
  private static Dataset<Row> withCachedFeatures(
      SparkSession spark, Dataset<Row> images, String cacheDir, boolean cacheExists) {
    if (!cacheExists) {
      return images.withColumn(Columns.FEATURES, lit(null).cast(FEATURE_TYPE));
    }
    // Concurrent runs may both append the same image; the cache keeps whichever came first.
    Dataset<Row> cache =
        spark.read().schema(FEATURE_SCHEMA).parquet(cacheDir).dropDuplicates(Columns.CONTENT_HASH);
    return images
        .join(cache, images.col(Columns.CONTENT_HASH).equalTo(cache.col(Columns.CONTENT_HASH)), "left_outer")
        .select(withFeatures(images, cache.col(Columns.FEATURES)))
        .persist(StorageLevel.MEMORY_AND_DISK());
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

  /**
   * Unpersists the datasets and destroys the broadcasts. Only once nothing will run on them:
   * every task over {@code computed}, even one reading its cached blocks, serializes its lineage,
   * which holds the broadcasts.
   */
  private static void release(Dataset<Row> joined, Dataset<Row> computed, Broadcast<?>... broadcasts) {
    joined.unpersist();
    computed.unpersist();
    for (Broadcast<?> b : broadcasts) {
      b.destroy();
    }
  }
}
