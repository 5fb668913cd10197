package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.bottleneck.features.Augmentation;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.train.ClassWeights;
import io.bottleneck.train.HeadConfig;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The immutable configuration of one job, read and validated before Spark starts. Every CLI
 * option maps to one of these keys (see {@code conf/bottleneck.conf}).
 *
 * <p>This class is the value the commands read, one public field per key. The reading and
 * checking is elsewhere: {@link ConfigValues} reads typed values with messages that name the
 * key, and each section's record ({@link SplitSettings}, {@link FeaturizeSettings}, {@link
 * AugmentSettings}, {@link TrainSettings}, {@link FineTuneSettings}, {@link SearchSettings},
 * {@link PredictSettings}, {@link BenchSettings}, {@link QualitySettings}) reads and checks its
 * keys; the constructor reads the sections in a fixed order, so the first problem reported is
 * always the same one.
 */
public final class JobConfig implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  /** Where the JDBC user and password come from when the configuration leaves them empty. */
  public static final String JDBC_USER_ENV = "BOTTLENECK_JDBC_USER";
  public static final String JDBC_PASSWORD_ENV = "BOTTLENECK_JDBC_PASSWORD";

  public final String input;
  public final String labelFrom;
  /** Empty when not set; the job decides (runs/&lt;run-id&gt; for the pipeline). */
  public final String output;
  public final String runId;
  /** The run's date (run-date, default today in UTC): with runId, the tables' partition. */
  public final LocalDate runDate;
  public final String predictInput;
  public final String model;
  public final String base;
  /** The bases declared in bottleneck.bases, by name (their files are read by the command). */
  public final Map<String, BaseDeclaration> bases;

  /** Turn JPEGs upright by their Exif orientation wherever images are decoded (ingest.exif-orientation). */
  public final boolean exifOrientation;

  public final double testSize;
  public final long seed;
  /** Seed of the head's (and fine-tuning's) initialisation, dropout, batch order and search: train.seed, default split.seed. */
  public final long trainSeed;

  public final String featurizeEngine;
  public final int featurizeBatchSize;
  public final String featureCache;
  public final int featurizePartitions;

  public final Augmentation augmentation;
  public final String tta;

  public final int epochs;
  public final List<Integer> hiddenUnits;
  public final double dropout;
  public final double learningRate;
  public final double l2;
  public final int trainBatchSize;
  public final int averagingFrequency;
  public final int earlyStoppingPatience;
  public final double earlyStoppingMinDelta;
  public final boolean restoreBestWeights;
  public final int reduceLrPatience;
  public final double reduceLrFactor;
  public final double minLearningRate;
  public final boolean batchNorm;
  public final String optimizer;
  public final ClassWeights classWeights;
  /** The train.* keys as the head trainer takes them, checked when the configuration loads. */
  public final HeadConfig head;

  /** 0: no fine-tuning. */
  public final int fineTuneBlocks;
  public final int fineTuneEpochs;
  public final double fineTuneLearningRate;
  public final String fineTuneOptimizer;
  public final List<Integer> scratchFilters;

  /** 0: no search. */
  public final int searchTrials;
  /** grid or random. */
  public final String searchStrategy;
  /** Each list: the values a search tries; empty keeps the train.* value. */
  public final List<List<Integer>> searchHiddenUnits;
  public final List<Double> searchDropout;
  public final List<Double> searchLearningRate;
  public final List<Double> searchL2;
  public final List<Boolean> searchBatchNorm;
  public final List<String> searchOptimizer;

  public final String predictFormat;
  public final String predictTable;
  public final int predictBatchSize;
  /** Empty: no JDBC write. */
  public final String jdbcUrl;
  public final String jdbcTable;
  public final String jdbcUser;
  /** Never logged or printed; transient so it never travels in a serialized configuration. */
  public final transient String jdbcPassword;
  /** Empty: no metrics table. */
  public final String metricsTable;
  /** predict: score only images whose content hash the target lacks for this model id. */
  public final boolean skipExisting;

  /** The stream command's checkpoint folder (empty: not set, which stream refuses). */
  public final String streamCheckpoint;
  /** available-now, or processing-time:&lt;interval&gt; (see {@link #streamIntervalMillis}). */
  public final String streamTrigger;
  /** The interval of a processing-time trigger in milliseconds; 0 for available-now. */
  public final long streamIntervalMillis;
  public final int streamMaxFilesPerTrigger;

  public final String warehouseDir;
  public final String metastoreDir;
  public final Map<String, String> spark;

  public final int benchImages;
  public final List<Integer> benchScale;
  public final String benchInput;
  public final String benchWorkDir;
  public final long benchSeed;

  /** Drop duplicate images (content hash) before splitting. */
  public final boolean dedupe;
  public final double maxImbalanceRatio;
  /** Compare held-out and training features for near-duplicates (pipeline, train). */
  public final boolean nearDuplicates;
  /** Cosine similarity at or above which two different files count as near-duplicates. */
  public final double nearDuplicateSimilarity;
  public final boolean reportEnabled;
  /** Thumbnails per example grid in the report. */
  public final int reportExamples;
  /**
   * The whole resolved {@code bottleneck} tree, credentials masked ({@link EffectiveConfig}):
   * what the run report and {@code --dry-run} show.
   */
  public final Map<String, Object> effective;

  private JobConfig(Config c) {
    ConfigValues v = new ConfigValues(c);
    input = v.string("input");
    labelFrom = v.string("label-from");
    try {
      LabelSource.parse(labelFrom); // the grammar ingest reads it with, so both always agree
    } catch (IllegalArgumentException e) {
      throw invalid("label-from", labelFrom, "one of dir, filename, manifest:URI, none");
    }
    output = v.string("output");
    String id = v.string("run-id");
    if (id.isEmpty()) {
      id = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    } else if (!RUN_ID.matcher(id).matches()) {
      throw invalid("run-id", id, "letters, digits, '.', '_' or '-' (at most 128), not starting with a symbol");
    }
    runId = id;
    runDate = v.runDate("run-date");
    predictInput = v.string("predict-input");
    model = v.string("model");
    base = v.string("base");
    bases = Collections.unmodifiableMap(BaseDeclarations.read(c));
    try {
      Bases.parseSpec(base, bases.keySet());
    } catch (IllegalArgumentException e) {
      throw invalid("base", base, "one of " + String.join(", ", Bases.names())
          + (bases.isEmpty() ? "" : ", the declared " + String.join(", ", bases.keySet()))
          + ", or several joined by '+' (an ensemble)");
    }

    exifOrientation = v.bool("ingest.exif-orientation");

    SplitSettings split = SplitSettings.read(v);
    testSize = split.testSize();
    seed = split.seed();
    trainSeed = v.isNull("train.seed") ? seed : v.longValue("train.seed");

    FeaturizeSettings featurize = FeaturizeSettings.read(v, base, bases.keySet());
    featurizeEngine = featurize.engine();
    featurizeBatchSize = featurize.batchSize();
    featureCache = featurize.cache();
    featurizePartitions = featurize.partitions();

    AugmentSettings augment = AugmentSettings.read(v, seed);
    augmentation = augment.augmentation();
    tta = augment.tta();

    TrainSettings train = TrainSettings.read(v, trainSeed);
    epochs = train.epochs();
    hiddenUnits = train.hiddenUnits();
    dropout = train.dropout();
    learningRate = train.learningRate();
    l2 = train.l2();
    trainBatchSize = train.batchSize();
    averagingFrequency = train.averagingFrequency();
    earlyStoppingPatience = train.earlyStoppingPatience();
    earlyStoppingMinDelta = train.earlyStoppingMinDelta();
    restoreBestWeights = train.restoreBestWeights();
    reduceLrPatience = train.reduceLrPatience();
    reduceLrFactor = train.reduceLrFactor();
    minLearningRate = train.minLearningRate();
    batchNorm = train.batchNorm();
    optimizer = train.optimizer();
    classWeights = train.classWeights();
    head = train.head();

    FineTuneSettings fineTune = FineTuneSettings.read(v, base, bases.keySet());
    fineTuneBlocks = fineTune.blocks();
    fineTuneEpochs = fineTune.epochs();
    fineTuneLearningRate = fineTune.learningRate();
    fineTuneOptimizer = fineTune.optimizer();
    scratchFilters = v.intList("scratch.filters");
    if (scratchFilters.isEmpty()) {
      throw invalid("scratch.filters", scratchFilters, "a non-empty list of channel counts");
    }
    int pixels = Bases.pixelSize(base);
    if (pixels > 0 && (pixels >> scratchFilters.size()) < 1) {
      // each block halves the side with its 2x2 max-pool
      throw invalid("scratch.filters", scratchFilters, "at most " + (31 - Integer.numberOfLeadingZeros(pixels))
          + " entries with base " + base + " (each block halves the " + pixels + "-pixel side)");
    }

    SearchSettings search = SearchSettings.read(v, base, minLearningRate);
    searchTrials = search.trials();
    searchStrategy = search.strategy();
    searchHiddenUnits = search.hiddenUnits();
    searchDropout = search.dropout();
    searchLearningRate = search.learningRate();
    searchL2 = search.l2();
    searchBatchNorm = search.batchNorm();
    searchOptimizer = search.optimizer();

    PredictSettings predict = PredictSettings.read(v);
    predictFormat = predict.format();
    predictTable = predict.table();
    predictBatchSize = predict.batchSize();
    jdbcUrl = predict.jdbcUrl();
    jdbcTable = predict.jdbcTable();
    jdbcUser = predict.jdbcUser();
    jdbcPassword = predict.jdbcPassword();
    metricsTable = v.tableName("metrics.table", "metrics");
    skipExisting = v.bool("predict.skip-existing");

    StreamSettings stream = StreamSettings.read(v);
    streamCheckpoint = stream.checkpoint();
    streamTrigger = stream.trigger();
    streamIntervalMillis = stream.intervalMillis();
    streamMaxFilesPerTrigger = stream.maxFilesPerTrigger();

    warehouseDir = v.string("catalog.warehouse-dir");
    metastoreDir = v.string("catalog.metastore-dir");
    spark = Collections.unmodifiableMap(v.settings("spark"));

    BenchSettings bench = BenchSettings.read(v);
    benchImages = bench.images();
    benchScale = bench.scale();
    benchInput = bench.input();
    benchWorkDir = bench.workDir();
    benchSeed = bench.seed();

    QualitySettings quality = QualitySettings.read(v);
    dedupe = quality.dedupe();
    maxImbalanceRatio = quality.maxImbalanceRatio();
    nearDuplicates = quality.nearDuplicates();
    nearDuplicateSimilarity = quality.nearDuplicateSimilarity();
    reportEnabled = v.bool("report.enabled");
    reportExamples = v.atLeast("report.examples", 0);
    effective = Collections.unmodifiableMap(EffectiveConfig.redacted(c));
  }

  /** Reads and validates a merged configuration; any problem is a {@link ConfigError}. */
  public static JobConfig from(Config merged) {
    try {
      return new JobConfig(merged);
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage().replace("io/bottleneck/config/", ""), e);
    }
  }
}
