package io.bottleneck.features;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.config.JobConfig;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Schemas;
import io.bottleneck.nets.Bases;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The featurize stage as the commands run it, from the job's configuration: features through
 * the cache, augmented views for training, the flipped view for test-time augmentation, and the
 * near-duplicate check across splits.
 */
public final class FeatureStage {
  private static final Logger LOG = LoggerFactory.getLogger(FeatureStage.class);

  private FeatureStage() {}

  /** The feature cache root, qualified (a relative path resolves on the default file system). */
  public static String featureCache(SparkSession spark, JobConfig cfg) {
    return HadoopFiles.qualify(cfg.featureCache, spark);
  }

  /** The original view's features of {@code images} with {@code baseSpec}, through the cache. */
  public static Featurizer.Result featurize(
      SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot) {
    return featurize(spark, images, baseSpec, cfg, cacheRoot, ImageView.ORIGINAL);
  }

  /** As above, of the given view; engine, batch size, partitions and EXIF handling from cfg. */
  public static Featurizer.Result featurize(
      SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot, ImageView view) {
    return Featurizer.featurize(
        spark, images, baseSpec, cfg.featurizeEngine, view, cacheRoot, cfg.featurizeBatchSize, cfg.featurizePartitions,
        cfg.exifOrientation);
  }

  /**
   * In local mode, starts building the configured built-in bases in the background (see {@link
   * BasePool#prebuild}), so that the featurize stage finds them ready; on a cluster the tasks run
   * in executors, and this does nothing. Call it before the stages that precede featurization.
   */
  public static void prebuildBases(SparkSession spark, JobConfig cfg) {
    if (!spark.sparkContext().isLocal()) {
      return;
    }
    int instances = Math.min(PREBUILT_INSTANCES, spark.sparkContext().defaultParallelism());
    for (String id : Bases.parseSpec(cfg.base, cfg.bases.keySet())) {
      if (!Bases.isDeclared(id) && Bases.pixelSize(id) < 0) {
        BasePool.prebuild(id, cfg.featurizeEngine, instances, cfg.featurizeBatchSize);
      }
    }
  }

  /**
   * Waits for the bases {@link #prebuildBases} is still building (at most a minute): call it
   * before the JVM exits, e.g. after a failure early in the job.
   */
  public static void awaitPrebuiltBases() {
    BasePool.awaitPrebuilds(60_000);
  }

  /**
   * Instances built ahead, at most: one per task slot on two cores; with more slots, the tasks
   * build the rest (a later instance builds in a fraction of the first one's time: the engine's
   * one-off setup is done).
   */
  private static final int PREBUILT_INSTANCES = 2;

  /** {@link TrainingFeatures} of {@code images} with the configured base. */
  public static TrainingFeatures featurizeForTraining(
      SparkSession spark, Dataset<Row> images, JobConfig cfg, String cacheRoot) {
    return featurizeForTraining(spark, images, cfg.base, cfg, cacheRoot);
  }

  /** As above, with {@code baseSpec} instead of the configured base. */
  public static TrainingFeatures featurizeForTraining(
      SparkSession spark, Dataset<Row> images, String baseSpec, JobConfig cfg, String cacheRoot) {
    Featurizer.Result original = featurize(spark, images, baseSpec, cfg, cacheRoot);
    Dataset<Row> rows = original.featured().withColumn(Columns.VIEW, lit("original"));
    List<Featurizer.Result> augmented = new ArrayList<>();
    Augmentation augmentation = cfg.augmentation;
    if (augmentation.enabled()) {
      Dataset<Row> train =
          Schemas.hasColumn(images.schema(), Columns.SPLIT) ? images.where(col(Columns.SPLIT).equalTo("train")) : images;
      try {
        for (int copy = 1; copy <= augmentation.copies(); copy++) {
          ImageView view = ImageView.augmented(augmentation, copy);
          Featurizer.Result result = featurize(spark, train, baseSpec, cfg, cacheRoot, view);
          augmented.add(result);
          rows = rows.unionByName(result.featured().withColumn(Columns.VIEW, lit(view.toString())));
        }
      } catch (RuntimeException e) {
        original.close();
        augmented.forEach(Featurizer.Result::close);
        throw e;
      }
      LOG.info(
          "augment: {} views of each training image ({} computed, {} from the cache)",
          augmentation.copies(),
          augmented.stream().mapToLong(Featurizer.Result::computed).sum(),
          augmented.stream().mapToLong(Featurizer.Result::fromCache).sum());
    }
    return new TrainingFeatures(rows, original, augmented);
  }

  /** {@link TtaFeatures} of featured rows: the flipped view joined on with tta = flip, else the rows. */
  public static TtaFeatures withTta(
      SparkSession spark, Dataset<Row> featured, String baseSpec, JobConfig cfg, String cacheRoot) {
    if (!cfg.tta.equals("flip")) {
      return new TtaFeatures(featured, List.of(), null);
    }
    Featurizer.Result flip =
        featurize(spark, featured.select(Columns.PATH, Columns.CONTENT_HASH), baseSpec, cfg, cacheRoot, ImageView.FLIP);
    String hash = "_flip_hash";
    Dataset<Row> flipped =
        flip.featured()
            .select(col(Columns.CONTENT_HASH).as(hash), col(Columns.FEATURES).as(Columns.FEATURES_FLIP))
            .dropDuplicates(hash);
    Dataset<Row> rows = featured.join(flipped, featured.col(Columns.CONTENT_HASH).equalTo(flipped.col(hash))).drop(hash);
    return new TtaFeatures(rows, List.of(Columns.FEATURES_FLIP), flip);
  }

  /**
   * Near-duplicates between the held-out and training rows of {@code featured} (see
   * {@link NearDuplicates}), keeping {@code examples} pairs, each finding logged as a warning;
   * null when quality.near-duplicates.enabled is off or the rows have no split column.
   */
  public static NearDuplicates nearDuplicates(Dataset<Row> featured, JobConfig cfg, int examples) {
    if (!cfg.nearDuplicates || !Schemas.hasColumn(featured.schema(), Columns.SPLIT)) {
      return null;
    }
    long t0 = System.nanoTime();
    NearDuplicates near = NearDuplicates.find(featured, cfg.nearDuplicateSimilarity, examples);
    near.warnings().forEach(w -> LOG.warn("data quality: {}", w));
    LOG.info("data quality: near-duplicates across splits: {} pair(s), {} held-out image(s) at cosine >= {} ({} s)",
        near.pairs(), near.heldOutImages(), near.minSimilarity(), Math.round((System.nanoTime() - t0) / 1e7) / 100.0);
    return near;
  }
}
