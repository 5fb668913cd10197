package io.bottleneck.features;

import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Schemas;
import io.bottleneck.io.SerializableHadoopConf;
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
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
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

  /** Schema of the cache and of what the executors produce. */
  public static final StructType FEATURE_SCHEMA =
      new StructType()
          .add(Columns.CONTENT_HASH, DataTypes.StringType, false)
          .add(Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false);

  /** What a featurization did; {@code featured} keeps every input column and adds features. */
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
      String cacheLocation) {
    public double imagesPerSecond() {
      return computeSeconds > 0 ? computed / computeSeconds : 0;
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

    Dataset<Row> distinct =
        images.select(Columns.PATH, Columns.CONTENT_HASH).dropDuplicates(Columns.CONTENT_HASH);
    Dataset<Row> missing = distinct;
    boolean cacheExists;
    try {
      cacheExists = HadoopFiles.hasData(cacheDir, hadoopConf);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read feature cache " + cacheDir, e);
    }
    if (cacheExists) {
      Dataset<Row> cachedKeys = spark.read().parquet(cacheDir).select(Columns.CONTENT_HASH);
      missing = distinct.join(cachedKeys, distinct.col(Columns.CONTENT_HASH).equalTo(cachedKeys.col(Columns.CONTENT_HASH)), "left_anti");
    }
    missing = missing.persist();
    long distinctCount = distinct.count();
    long missingCount = missing.count();
    long seconds0 = System.nanoTime();
    if (missingCount == 0) {
      LOG.info(
          "featurize: all {} distinct images found in the cache {}; nothing to compute",
          distinctCount, cacheDir);
    } else {
      LOG.info(
          "featurize: {} of {} distinct images not in the cache; computing them with {} on {}",
          missingCount, distinctCount, baseId, engine);
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      // Small partitions (a few batches each) keep progress and retries fine-grained; a task
      // costs little since networks are pooled per executor thread.
      long batches = (missingCount + batchSize - 1) / batchSize;
      int parts =
          partitions > 0
              ? partitions
              : (int) Math.max(2L * jsc.defaultParallelism(), (batches + BATCHES_PER_PARTITION - 1) / BATCHES_PER_PARTITION);
      parts = (int) Math.max(1, Math.min(parts, batches));
      LongAccumulator done = spark.sparkContext().longAccumulator("featurized images");
      Broadcast<byte[]> weights = jsc.broadcast(Bases.weights(baseId));
      Broadcast<SerializableHadoopConf> conf =
          jsc.broadcast(new SerializableHadoopConf(hadoopConf));
      spark.sparkContext().setJobGroup("featurize", "featurize " + missingCount + " images with " + baseId, false);
      try (FeaturizeProgress progress = new FeaturizeProgress(done, missingCount, PROGRESS_SECONDS)) {
        missing
            .repartition(parts)
            .mapPartitions(
                new FeaturizePartition(baseId, engine, weights, conf, batchSize, done),
                Encoders.row(FEATURE_SCHEMA))
            .write()
            .mode(SaveMode.Append)
            .parquet(cacheDir);
      } finally {
        spark.sparkContext().clearJobGroup();
        weights.destroy();
        conf.destroy();
      }
    }
    missing.unpersist();
    double seconds = (System.nanoTime() - seconds0) / 1e9;
    if (missingCount > 0) {
      LOG.info(
          "featurize: computed {} images in {} s ({} images/s); {} from the cache",
          missingCount,
          String.format("%.1f", seconds),
          String.format("%.1f", missingCount / seconds),
          distinctCount - missingCount);
    }
    // Concurrent runs may both append the same image; the cache keeps whichever came first.
    Dataset<Row> cache = spark.read().schema(FEATURE_SCHEMA).parquet(cacheDir).dropDuplicates(Columns.CONTENT_HASH);
    Column[] keepOrder = new Column[images.columns().length + 1];
    for (int i = 0; i < images.columns().length; i++) {
      keepOrder[i] = images.col(images.columns()[i]);
    }
    keepOrder[keepOrder.length - 1] = cache.col(Columns.FEATURES);
    Dataset<Row> featured =
        images.join(cache, images.col(Columns.CONTENT_HASH).equalTo(cache.col(Columns.CONTENT_HASH)))
            .select(keepOrder);
    return new Result(
        featured,
        baseId,
        engine,
        info.preprocessingId(),
        info.featureSize(),
        distinctCount,
        missingCount,
        distinctCount - missingCount,
        missingCount == 0 ? 0 : seconds,
        cacheDir);
  }
}
