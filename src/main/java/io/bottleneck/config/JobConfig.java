package io.bottleneck.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.bottleneck.features.Augmentation;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.train.ClassWeights;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadSearch;
import io.bottleneck.train.SearchSpace;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The immutable configuration of one job, read and validated before Spark starts. Every CLI
 * option maps to one of these keys (see {@code conf/bottleneck.conf}).
 */
public final class JobConfig implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Pattern RUN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final List<String> SEARCH_STRATEGIES =
      Arrays.stream(HeadSearch.Strategy.values()).map(HeadSearch.Strategy::toString).toList();
  private static final Pattern TABLE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://");
  private static final Pattern ISO_DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
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
    input = string(c, "input");
    labelFrom = string(c, "label-from");
    try {
      LabelSource.parse(labelFrom); // the grammar ingest reads it with, so both always agree
    } catch (IllegalArgumentException e) {
      throw invalid("label-from", labelFrom, "one of dir, filename, manifest:URI, none");
    }
    output = string(c, "output");
    String id = string(c, "run-id");
    if (id.isEmpty()) {
      id = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    } else if (!RUN_ID.matcher(id).matches()) {
      throw invalid("run-id", id, "letters, digits, '.', '_' or '-' (at most 128), not starting with a symbol");
    }
    runId = id;
    runDate = runDate(c, "run-date");
    predictInput = string(c, "predict-input");
    model = string(c, "model");
    base = string(c, "base");
    bases = Collections.unmodifiableMap(BaseDeclarations.read(c));
    try {
      Bases.parseSpec(base, bases.keySet());
    } catch (IllegalArgumentException e) {
      throw invalid("base", base, "one of " + String.join(", ", Bases.names())
          + (bases.isEmpty() ? "" : ", the declared " + String.join(", ", bases.keySet()))
          + ", or several joined by '+' (an ensemble)");
    }

    exifOrientation = bool(c, "ingest.exif-orientation");

    testSize = number(c, "split.test-size");
    if (!(testSize > 0 && testSize < 1) && !(testSize >= 1 && testSize == Math.rint(testSize))) {
      throw invalid("split.test-size", testSize, "a fraction in (0, 1) or a whole number >= 1");
    }
    seed = c.getLong(key("split.seed"));
    trainSeed = c.getIsNull(key("train.seed")) ? seed : c.getLong(key("train.seed"));

    featurizeEngine = string(c, "featurize.engine");
    if (!Bases.engines().contains(featurizeEngine)) {
      throw invalid("featurize.engine", featurizeEngine, "one of " + String.join(", ", Bases.engines()));
    }
    for (String baseId : Bases.parseSpec(base, bases.keySet())) {
      // a declared base runs on its format's engine, whatever featurize.engine says
      if (!bases.containsKey(baseId) && !Bases.engines(baseId).contains(featurizeEngine)) {
        throw invalid("featurize.engine", featurizeEngine, "an engine that runs base " + baseId + ": "
            + String.join(", ", Bases.engines(baseId)));
      }
    }
    featurizeBatchSize = positive(c, "featurize.batch-size");
    featureCache = string(c, "featurize.cache");
    if (featureCache.isEmpty()) {
      throw invalid("featurize.cache", "\"\"", "a directory URI or path");
    }
    featurizePartitions = atLeast(c, "featurize.partitions", 0);

    int copies = atLeast(c, "augment.copies", 0);
    double rotation = number(c, "augment.rotation");
    if (!(rotation >= 0 && rotation <= 180)) {
      throw invalid("augment.rotation", rotation, "in [0, 180] degrees");
    }
    double zoom = fraction(c, "augment.zoom");
    double widthShift = fraction(c, "augment.width-shift");
    double heightShift = fraction(c, "augment.height-shift");
    augmentation =
        new Augmentation(copies, rotation, zoom, widthShift, heightShift, bool(c, "augment.horizontal-flip"), seed);
    tta = string(c, "tta");
    if (!tta.equals("none") && !tta.equals("flip")) {
      throw invalid("tta", tta, "none or flip");
    }

    epochs = positive(c, "train.epochs");
    hiddenUnits = intList(c, "train.hidden-units");
    dropout = number(c, "train.dropout");
    if (!(dropout >= 0 && dropout < 1)) {
      throw invalid("train.dropout", dropout, "in [0, 1)");
    }
    learningRate = positiveNumber(c, "train.learning-rate");
    l2 = number(c, "train.l2");
    if (!(l2 >= 0)) {
      throw invalid("train.l2", l2, ">= 0");
    }
    trainBatchSize = positive(c, "train.batch-size");
    averagingFrequency = positive(c, "train.averaging-frequency");
    earlyStoppingPatience = atLeast(c, "train.early-stopping.patience", 0);
    earlyStoppingMinDelta = number(c, "train.early-stopping.min-delta");
    if (!(earlyStoppingMinDelta >= 0)) {
      throw invalid("train.early-stopping.min-delta", earlyStoppingMinDelta, ">= 0");
    }
    restoreBestWeights = bool(c, "train.early-stopping.restore-best-weights");
    reduceLrPatience = atLeast(c, "train.reduce-lr.patience", 0);
    reduceLrFactor = number(c, "train.reduce-lr.factor");
    if (!(reduceLrFactor > 0 && reduceLrFactor < 1)) {
      throw invalid("train.reduce-lr.factor", reduceLrFactor, "in (0, 1)");
    }
    minLearningRate = number(c, "train.reduce-lr.min-lr");
    if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
      // a floor above the starting rate would make the first reduction raise the rate
      throw invalid("train.reduce-lr.min-lr", minLearningRate,
          ">= 0 and at most train.learning-rate (" + learningRate + ")");
    }
    batchNorm = bool(c, "train.batch-norm");
    optimizer = string(c, "train.optimizer");
    if (!HeadConfig.OPTIMIZERS.contains(optimizer)) {
      throw invalid("train.optimizer", optimizer, "one of " + String.join(", ", HeadConfig.OPTIMIZERS));
    }
    classWeights = classWeights(c, "train.class-weights");
    head = headConfig();

    fineTuneBlocks = atLeast(c, "fine-tune.blocks", 0);
    fineTuneEpochs = positive(c, "fine-tune.epochs");
    fineTuneLearningRate = positiveNumber(c, "fine-tune.learning-rate");
    fineTuneOptimizer = string(c, "fine-tune.optimizer");
    if (!HeadConfig.OPTIMIZERS.contains(fineTuneOptimizer)) {
      throw invalid("fine-tune.optimizer", fineTuneOptimizer, "one of " + String.join(", ", HeadConfig.OPTIMIZERS));
    }
    if (fineTuneBlocks > 0 && bases.containsKey(base)) {
      throw invalid("fine-tune.blocks", fineTuneBlocks, "0 with base " + base
          + ": fine-tuning applies to built-in bases only, and " + base + " is declared in bottleneck.bases");
    }
    if (fineTuneBlocks > 0) {
      try {
        TunableTail.frozenPartId(base, fineTuneBlocks);
      } catch (IllegalArgumentException e) {
        throw invalid("fine-tune.blocks", fineTuneBlocks,
            "0 with base " + base + " (fine-tuning supports mobilenet_v2_1.0 alone, 1 block,"
                + " mobilenet_v1_0.25 alone, 1 or 2 blocks, or squeezenet_1.1 alone, 1 or 2 blocks)");
      }
    }
    scratchFilters = intList(c, "scratch.filters");
    if (scratchFilters.isEmpty()) {
      throw invalid("scratch.filters", scratchFilters, "a non-empty list of channel counts");
    }
    int pixels = Bases.pixelSize(base);
    if (pixels > 0 && (pixels >> scratchFilters.size()) < 1) {
      // each block halves the side with its 2x2 max-pool
      throw invalid("scratch.filters", scratchFilters, "at most " + (31 - Integer.numberOfLeadingZeros(pixels))
          + " entries with base " + base + " (each block halves the " + pixels + "-pixel side)");
    }

    searchTrials = atLeast(c, "search.trials", 0);
    if (searchTrials > 0 && Bases.pixelSize(base) > 0) {
      throw invalid("search.trials", searchTrials, "0 with base " + base
          + " (the search tunes the head on a pretrained base's features, not the CNN from scratch)");
    }
    searchStrategy = string(c, "search.strategy");
    if (!SEARCH_STRATEGIES.contains(searchStrategy)) {
      throw invalid("search.strategy", searchStrategy, "one of " + String.join(", ", SEARCH_STRATEGIES));
    }
    searchHiddenUnits = layerSizeLists(c, "search.hidden-units");
    searchDropout = distinct("search.dropout", c.getDoubleList(key("search.dropout")));
    for (double d : searchDropout) {
      if (!(d >= 0 && d < 1)) {
        throw invalid("search.dropout", searchDropout, "a list of fractions in [0, 1)");
      }
    }
    searchLearningRate = distinct("search.learning-rate", c.getDoubleList(key("search.learning-rate")));
    for (double lr : searchLearningRate) {
      if (!(lr > 0 && lr >= minLearningRate) || Double.isInfinite(lr)) {
        throw invalid(
            "search.learning-rate", searchLearningRate,
            "a list of learning rates, each positive and >= train.reduce-lr.min-lr (" + minLearningRate + ")");
      }
    }
    searchL2 = distinct("search.l2", c.getDoubleList(key("search.l2")));
    for (double v : searchL2) {
      if (!(v >= 0) || Double.isInfinite(v)) {
        throw invalid("search.l2", searchL2, "a list of numbers >= 0");
      }
    }
    searchBatchNorm = distinct("search.batch-norm", c.getBooleanList(key("search.batch-norm")));
    searchOptimizer = distinct("search.optimizer", c.getStringList(key("search.optimizer")));
    for (String o : searchOptimizer) {
      if (!HeadConfig.OPTIMIZERS.contains(o)) {
        throw invalid("search.optimizer", searchOptimizer, "a list of optimizers among " + String.join(", ", HeadConfig.OPTIMIZERS));
      }
    }

    try {
      new SearchSpace(searchHiddenUnits, searchDropout, searchLearningRate, searchL2, searchBatchNorm, searchOptimizer);
    } catch (IllegalArgumentException e) { // the checks above should have named the key already
      throw new ConfigError("Cannot use the search.* values: " + e.getMessage(), e);
    }

    predictFormat = string(c, "predict.format");
    if (!predictFormat.equals("parquet") && !predictFormat.equals("csv")) {
      throw invalid("predict.format", predictFormat, "parquet or csv");
    }
    predictTable = tableName(c, "predict.table", "predictions");
    predictBatchSize = positive(c, "predict.batch-size");
    jdbcUrl = string(c, "predict.jdbc.url");
    if (!jdbcUrl.isEmpty() && !jdbcUrl.startsWith("jdbc:")) {
      throw invalid("predict.jdbc.url", jdbcUrl, "a JDBC URL such as jdbc:postgresql://host:5432/db");
    }
    String jdbcTableName = tableName(c, "predict.jdbc.table", "predictions");
    if (jdbcTableName.isEmpty()) {
      jdbcTableName = predictTable.isEmpty() ? "predictions" : predictTable.substring(predictTable.indexOf('.') + 1);
    }
    jdbcTable = jdbcTableName;
    jdbcUser = orEnvironment(string(c, "predict.jdbc.user"), JDBC_USER_ENV);
    jdbcPassword = orEnvironment(string(c, "predict.jdbc.password"), JDBC_PASSWORD_ENV);
    metricsTable = tableName(c, "metrics.table", "metrics");
    skipExisting = bool(c, "predict.skip-existing");

    streamCheckpoint = string(c, "stream.checkpoint");
    streamTrigger = string(c, "stream.trigger");
    streamIntervalMillis = triggerInterval(streamTrigger);
    streamMaxFilesPerTrigger = positive(c, "stream.max-files-per-trigger");

    warehouseDir = string(c, "catalog.warehouse-dir");
    metastoreDir = string(c, "catalog.metastore-dir");

    Map<String, String> sparkSettings = new TreeMap<>();
    Config sparkSection = c.getConfig(key("spark"));
    for (Map.Entry<String, ConfigValue> e : sparkSection.root().entrySet()) {
      Object v = e.getValue().unwrapped();
      if (v instanceof Map || v instanceof List) {
        throw invalid("spark." + e.getKey(), v, "a single value (quote Spark keys: \"spark.x.y\" = value)");
      }
      sparkSettings.put(e.getKey(), String.valueOf(v));
    }
    spark = Collections.unmodifiableMap(sparkSettings);

    benchImages = positive(c, "bench.images");
    benchScale = List.copyOf(c.getIntList(key("bench.scale")));
    for (int n : benchScale) {
      if (n < 1) {
        throw invalid("bench.scale", benchScale, "a list of positive image counts");
      }
    }
    benchInput = string(c, "bench.input");
    if (benchInput.isEmpty()) {
      throw invalid("bench.input", "\"\"", "a directory URI or path");
    }
    benchWorkDir = string(c, "bench.work-dir");
    if (benchWorkDir.isEmpty() || (URI_SCHEME.matcher(benchWorkDir).lookingAt() && !benchWorkDir.startsWith("file:"))) {
      throw invalid("bench.work-dir", benchWorkDir.isEmpty() ? "\"\"" : benchWorkDir, "a local directory (a path or file: URI)");
    }
    benchSeed = c.getLong(key("bench.seed"));

    dedupe = bool(c, "quality.dedupe");
    maxImbalanceRatio = number(c, "quality.max-imbalance-ratio");
    if (!(maxImbalanceRatio >= 1.0)) {
      throw invalid("quality.max-imbalance-ratio", maxImbalanceRatio, "a ratio >= 1");
    }
    nearDuplicates = bool(c, "quality.near-duplicates.enabled");
    nearDuplicateSimilarity = number(c, "quality.near-duplicates.min-similarity");
    if (!(nearDuplicateSimilarity > 0 && nearDuplicateSimilarity <= 1)) {
      throw invalid("quality.near-duplicates.min-similarity", nearDuplicateSimilarity, "a cosine similarity in (0, 1]");
    }
    reportEnabled = bool(c, "report.enabled");
    reportExamples = atLeast(c, "report.examples", 0);
    effective = Collections.unmodifiableMap(EffectiveConfig.redacted(c));
  }

  /**
   * The head's configuration from the train.* values read above. They are checked key by key
   * first, so that the message names the key; HeadConfig's own checks are the safety net.
   */
  private HeadConfig headConfig() {
    try {
      return HeadConfig.defaults().toBuilder()
          .hiddenUnits(hiddenUnits)
          .dropout(dropout)
          .learningRate(learningRate)
          .l2(l2)
          .batchNorm(batchNorm)
          .optimizer(optimizer)
          .classWeights(classWeights)
          .epochs(epochs)
          .batchSizePerWorker(trainBatchSize)
          .averagingFrequency(averagingFrequency)
          .seed(trainSeed)
          .earlyStoppingPatience(earlyStoppingPatience)
          .earlyStoppingMinDelta(earlyStoppingMinDelta)
          .restoreBestWeights(restoreBestWeights)
          .reduceLrPatience(reduceLrPatience)
          .reduceLrFactor(reduceLrFactor)
          .minLearningRate(minLearningRate)
          .build();
    } catch (IllegalArgumentException e) {
      throw new ConfigError("Cannot use the train.* values: " + e.getMessage(), e);
    }
  }

  /** Reads and validates a merged configuration; any problem is a {@link ConfigError}. */
  public static JobConfig from(Config merged) {
    try {
      return new JobConfig(merged);
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage().replace("io/bottleneck/config/", ""), e);
    }
  }

  private static String key(String k) {
    return ConfigLoader.ROOT + "." + k;
  }

  private static ConfigError invalid(String k, Object value, String expectation) {
    return new ConfigError(
        "Cannot set " + key(k) + " to " + value + ": the value must be " + expectation);
  }

  private static String string(Config c, String k) {
    return c.getIsNull(key(k)) ? "" : c.getString(key(k)).trim();
  }

  /** A catalog or database table name, optionally qualified by one database/schema; or empty. */
  private static String tableName(Config c, String k, String example) {
    String name = string(c, k);
    if (!name.isEmpty() && !TABLE_NAME.matcher(name).matches()) {
      throw invalid(k, name, "a table name such as " + example + " or db." + example);
    }
    return name;
  }

  private static LocalDate runDate(Config c, String k) {
    String value = string(c, k);
    if (value.isEmpty()) {
      return LocalDate.now(ZoneOffset.UTC);
    }
    String expectation = "a date YYYY-MM-DD such as 2026-11-23 (empty: today in UTC)";
    if (!ISO_DATE.matcher(value).matches()) {
      throw invalid(k, value, expectation);
    }
    try {
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) { // a well-formed but impossible date such as 2026-02-30
      throw invalid(k, value, expectation);
    }
  }

  private static final Pattern INTERVAL =
      Pattern.compile("processing-time:(\\d{1,9})\\s*(ms|s|sec|seconds?|m|min|minutes?|h|hours?)");

  /** 0 for available-now; the interval of processing-time:&lt;n&gt;&lt;unit&gt; in milliseconds. */
  private static long triggerInterval(String trigger) {
    if (trigger.equals("available-now")) {
      return 0;
    }
    java.util.regex.Matcher m = INTERVAL.matcher(trigger);
    long n = m.matches() ? Long.parseLong(m.group(1)) : 0;
    if (n <= 0) {
      throw invalid("stream.trigger", trigger,
          "available-now or processing-time:<interval> with a positive interval such as 30s, 500ms, 5m or 1h");
    }
    String unit = m.group(2);
    long scale = unit.equals("ms") ? 1 : unit.startsWith("s") ? 1_000 : unit.startsWith("m") ? 60_000 : 3_600_000;
    return n * scale;
  }

  private static String orEnvironment(String configured, String variable) {
    if (!configured.isEmpty()) {
      return configured;
    }
    String fromEnvironment = System.getenv(variable);
    return fromEnvironment == null ? "" : fromEnvironment;
  }

  /** Every number key: NaN and infinities pass range checks written as {@code x < 0}. */
  private static double number(Config c, String k) {
    double v = c.getDouble(key(k));
    if (!Double.isFinite(v)) {
      throw invalid(k, v, "a finite number");
    }
    return v;
  }

  private static double positiveNumber(Config c, String k) {
    double v = number(c, k);
    if (!(v > 0)) {
      throw invalid(k, v, "positive");
    }
    return v;
  }

  /** A number in [0, 1). */
  private static double fraction(Config c, String k) {
    double v = number(c, k);
    if (!(v >= 0 && v < 1)) {
      throw invalid(k, v, "in [0, 1)");
    }
    return v;
  }

  private static int positive(Config c, String k) {
    return atLeast(c, k, 1);
  }

  private static int atLeast(Config c, String k, int min) {
    int v = c.getInt(key(k));
    if (v < min) {
      throw invalid(k, v, min == 1 ? "positive" : ">= " + min);
    }
    return v;
  }

  private static boolean bool(Config c, String k) {
    return c.getBoolean(key(k));
  }

  /** none, balanced, or one positive weight per class: "1.0,3.0" or a list [1.0, 3.0]. */
  private static ClassWeights classWeights(Config c, String k) {
    String spec;
    if (!c.getIsNull(key(k)) && c.getValue(key(k)).valueType() == ConfigValueType.LIST) {
      List<String> parts = new ArrayList<>();
      for (Object v : c.getList(key(k)).unwrapped()) {
        parts.add(String.valueOf(v));
      }
      spec = String.join(",", parts);
    } else {
      spec = string(c, k);
    }
    try {
      return ClassWeights.parse(spec);
    } catch (IllegalArgumentException e) {
      throw invalid(k, spec, "none, balanced, or positive weights in class order (the sorted labels) such as \"1.0,3.0\"");
    }
  }

  /** A list of layer-size lists, such as [[256], [512, 128]]; [] (no hidden layer) is allowed. */
  private static List<List<Integer>> layerSizeLists(Config c, String k) {
    ConfigList list = c.getList(key(k));
    List<List<Integer>> out = new ArrayList<>();
    for (ConfigValue v : list) {
      List<Integer> sizes = new ArrayList<>();
      boolean ok = v.valueType() == ConfigValueType.LIST;
      if (ok) {
        for (Object n : ((ConfigList) v).unwrapped()) {
          if (n instanceof Integer i && i >= 1) {
            sizes.add(i);
          } else {
            ok = false;
          }
        }
      }
      if (!ok) {
        throw invalid(k, list.unwrapped(), "a list of layer-size lists such as [[256], [512, 128]]");
      }
      out.add(List.copyOf(sizes));
    }
    return distinct(k, out);
  }

  /** The search values, rejected when one repeats (it would repeat trials). */
  private static <T> List<T> distinct(String k, List<T> values) {
    if (new HashSet<>(values).size() != values.size()) {
      throw invalid(k, values, "a list of distinct values");
    }
    return List.copyOf(values);
  }

  private static List<Integer> intList(Config c, String k) {
    List<Integer> v = c.getIntList(key(k));
    for (int units : v) {
      if (units < 1) {
        throw invalid(k, v, "a list of positive layer sizes");
      }
    }
    return List.copyOf(v);
  }
}
