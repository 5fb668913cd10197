package io.bottleneck.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.features.Featurizer;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Images;
import io.bottleneck.io.Json;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadNetwork;
import io.bottleneck.train.HeadTrainer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ObjIntConsumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark behind {@code bottleneck bench}: on one set of distinct images (jittered copies
 * of the input, see {@link JitteredImages}) it measures, in this order,
 *
 * <ol>
 *   <li><b>decode</b>: read + decode + resize to the base's input as the featurize stage does it
 *       ({@link ImageBase#readInput}: the engine's own decoder where it has one) on
 *       {@code availableProcessors} threads: the ceiling;
 *   <li><b>decode (Java)</b>: the same with {@link Images#decode} + {@link Preprocessing#fill},
 *       the decoder of every engine before the TF engine decoded JPEGs itself, for comparison;
 *   <li><b>forward</b>: the base's forward pass alone on already preprocessed batches, one base
 *       per thread: with decode, the other half of the bare loop's time;
 *   <li><b>bare</b>: {@code availableProcessors} threads, one {@link ImageBase} each, fixed
 *       batches of the featurize batch size: read + decode + preprocess + forward
 *       ({@link ImageBase#featurizeFiles}), no Spark;
 *   <li><b>featurize cold</b>: {@link Featurizer#featurize} through this Spark session with a
 *       fresh cache, plus materializing its output rows (Spark's {@code noop} sink), as the
 *       stage does when it writes them. A featurize of the same images (at most
 *       {@link #WARM_UP_IMAGES}) into another cache comes first, so that, as for the bare loop,
 *       building the networks (one per task thread, pooled) and warming up the JIT are not in
 *       the ratios; its rate is reported as the first call's;
 *   <li><b>featurize warm</b>: the same again on the now full cache;
 *   <li><b>head epoch</b>: {@link HeadTrainer#fit} (parameter averaging) against
 *       {@code MultiLayerNetwork.fit} in this JVM, same network, batch size and features;
 *   <li><b>scale</b>: for each extra size, the cold featurize stage on that many distinct images
 *       with this JVM's peak memory sampled meanwhile, then the same stage warm.
 * </ol>
 *
 * Image generation, ingest, model construction and warm-up are outside every timing. Runs only in
 * Spark local mode, where the executors are this JVM (the images live on the local disk).
 */
public final class Benchmark {
  private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
  private static final long MEMORY_PERIOD_MS = 50;
  /** Timed repetitions of each head measurement by default; the fastest counts. */
  public static final int HEAD_REPEATS = 2;
  /** Most images of the untimed warm-up featurize (see {@link #warmUp}). */
  static final int WARM_UP_IMAGES = 2000;
  /** Extra epochs of the longer Spark fit, whose difference to a one-epoch fit is timed. */
  static final int EXTRA_EPOCHS = 3;

  /**
   * @param input images the copies derive from (any Hadoop URI or local path)
   * @param labelFrom label source of {@code input} (dir, filename, manifest:URI, none)
   * @param workDir local folder for the images, caches and reports
   * @param images size of the main measurements
   * @param scale sizes of the scaling run (may be empty)
   * @param batchSize featurize batch size (also the bare loop's)
   * @param partitions featurize partitions (0 = twice the default parallelism)
   * @param head the head's configuration; its epochs are ignored
   * @param headRepeats timed repetitions of each head measurement (the fastest counts), after
   *     one untimed warm-up
   */
  public record Settings(
      String input,
      String labelFrom,
      String workDir,
      int images,
      List<Integer> scale,
      String base,
      String engine,
      int batchSize,
      int partitions,
      long seed,
      HeadConfig head,
      int headRepeats) {
    public Settings {
      Objects.requireNonNull(input, "input");
      Objects.requireNonNull(workDir, "workDir");
      Objects.requireNonNull(base, "base");
      Objects.requireNonNull(engine, "engine");
      Objects.requireNonNull(head, "head");
      scale = List.copyOf(scale);
      if (images < 1 || batchSize < 1 || headRepeats < 1) {
        throw new IllegalArgumentException("images, batch size and head repeats must be positive");
      }
    }
  }

  private final SparkSession spark;
  private final Settings settings;
  private final Path workDir;
  private final String stamp;

  public Benchmark(SparkSession spark, Settings settings) {
    this.spark = Objects.requireNonNull(spark, "spark");
    this.settings = settings;
    this.workDir = localPath(settings.workDir());
    this.stamp = ZonedDateTime.now(ZoneOffset.UTC).format(STAMP);
  }

  /** The local folder of a path or {@code file:} URI, absolute. */
  static Path localPath(String pathOrUri) {
    if (pathOrUri.startsWith("file:")) {
      return Path.of(URI.create(pathOrUri)).toAbsolutePath();
    }
    if (pathOrUri.matches("[A-Za-z][A-Za-z0-9+.-]*://.*")) {
      throw new IllegalArgumentException("The bench work directory must be local, not " + pathOrUri);
    }
    return Path.of(pathOrUri).toAbsolutePath();
  }

  public Path workDir() {
    return workDir;
  }

  public BenchReport run() throws IOException {
    if (!spark.sparkContext().isLocal()) {
      throw new IllegalStateException(
          "bench runs in Spark local mode only (its executors must be this JVM); master is "
              + spark.sparkContext().master());
    }
    Files.createDirectories(workDir);
    int n = settings.images();
    int cores = Runtime.getRuntime().availableProcessors();
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    if (load > cores / 2.0) {
      LOG.warn("bench: the machine is busy (load average {} on {} cores): timings will be off", fmt(load), cores);
    }
    List<JitteredImages.Source> sources = sources(Math.max(n, settings.scale().stream().mapToInt(i -> i).max().orElse(0)));
    JitteredImages.Generated main = images(sources, n);
    Path caches = workDir.resolve("caches").resolve(stamp);
    try {
      List<ImageBase> bases = new ArrayList<>();
      for (int t = 0; t < cores; t++) {
        bases.add(Bases.load(settings.base(), settings.engine()));
      }
      Preprocessing preprocessing = preprocessingOf(bases.get(0));

      double decode = decodeSeconds(main.files(), bases);
      LOG.info("bench: decode + resize, {} threads: {} img/s", cores, rate(n, decode));
      double decodeJava = decodeJavaSeconds(main.files(), preprocessing, cores);
      LOG.info("bench: decode + resize in Java, {} threads: {} img/s", cores, rate(n, decodeJava));
      double forward = forwardSeconds(main.files(), bases, settings.batchSize());
      LOG.info("bench: forward alone, {} threads, batch {}: {} img/s", cores, settings.batchSize(), rate(n, forward));
      double bare = bareSeconds(main.files(), bases, settings.batchSize());
      bases.forEach(ImageBase::close);
      LOG.info("bench: bare loop, {} threads, batch {}: {} img/s", cores, settings.batchSize(), rate(n, bare));
      List<BenchReport.EngineRow> engines = engineTable(main.files(), settings.base(), cores, settings.batchSize());

      Dataset<Row> images = ingest(main.dir(), n);
      double first = warmUp(images, caches.resolve("warm-up").toUri().toString(), n);
      LOG.info("bench: featurize, first call in this JVM (untimed warm-up): {} img/s", rate(Math.min(n, WARM_UP_IMAGES), first));
      String cache = caches.resolve("main").toUri().toString();
      Cold cold = featurizeCold(images, cache, n);
      cold.result.close();
      LOG.info("bench: featurize, cache cold: {} img/s", rate(n, cold.seconds));
      long t0 = System.nanoTime();
      Featurizer.Result warm = featurize(images, cache);
      double warmSeconds = seconds(t0);
      if (warm.computed() != 0) {
        throw new IllegalStateException("The warm run computed " + warm.computed() + " images; expected 0");
      }
      LOG.info("bench: featurize, cache warm: {} s", fmt(warmSeconds));

      HeadTimes head = headTimes(warm.featured());
      warm.close();

      List<BenchReport.ScaleStep> steps = new ArrayList<>();
      for (int size : new TreeSet<>(settings.scale())) {
        JitteredImages.Generated g = images(sources, size);
        Dataset<Row> scaled = ingest(g.dir(), size);
        String scaleCache = caches.resolve("scale-" + size).toUri().toString();
        Cold c = featurizeCold(scaled, scaleCache, size);
        c.result.close();
        long w0 = System.nanoTime();
        featurize(scaled, scaleCache).close();
        double warmScaled = seconds(w0);
        scaled.unpersist();
        steps.add(new BenchReport.ScaleStep(size, c.seconds, warmScaled, c.startRss, c.peakRss, c.peakHeap));
        LOG.info(
            "bench: scale {} images: {} s per 1,000, warm / cold {}, peak RSS {} MB",
            size, fmt(c.seconds / size * 1000), fmt(warmScaled / c.seconds), c.peakRss >> 20);
      }
      return new BenchReport(
          n,
          settings.base(),
          settings.engine(),
          settings.batchSize(),
          cores,
          spark.sparkContext().master(),
          ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE),
          load,
          first,
          decode,
          decodeJava,
          forward,
          bare,
          cold.seconds,
          cold.result.imagesPerSecond(),
          warmSeconds,
          cold.peakRss,
          cold.peakHeap,
          head.sparkEpoch,
          head.sparkFit,
          head.localEpoch,
          steps,
          engines);
    } finally {
      deleteTree(caches);
    }
  }

  /** Writes the report's JSON to {@code <work-dir>/bench-<timestamp>.json}. */
  public Path writeJson(BenchReport report) throws IOException {
    Path file = workDir.resolve("bench-" + stamp + ".json");
    Files.writeString(file, Json.pretty(report.toJson()) + "\n");
    return file;
  }

  // ---------------------------------------------------------------------------- images

  /** Accepted input images in path order, at most {@code max}, with their bytes. */
  private List<JitteredImages.Source> sources(int max) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    String input = HadoopFiles.qualify(settings.input(), conf);
    IngestResult ingested = ImageIngest.ingest(spark, input, LabelSource.parse(settings.labelFrom()));
    List<Row> rows =
        ingested.images().select(Columns.PATH, Columns.LABEL).orderBy(Columns.PATH).limit(max).collectAsList();
    if (rows.isEmpty()) {
      throw new IllegalArgumentException("bench: no usable images in " + input);
    }
    List<JitteredImages.Source> out = new ArrayList<>();
    for (Row r : rows) {
      try {
        out.add(new JitteredImages.Source(r.getString(1), HadoopFiles.readBytes(r.getString(0), conf), r.getString(0)));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + r.getString(0), e);
      }
    }
    return out;
  }

  private JitteredImages.Generated images(List<JitteredImages.Source> sources, int count) throws IOException {
    String origin = HadoopFiles.qualify(settings.input(), spark.sparkContext().hadoopConfiguration());
    return JitteredImages.ensure(sources, workDir.resolve(String.valueOf(count)), count, settings.seed(), origin);
  }

  /** The images dataset of a generated folder, through the ingest stage (persisted). */
  private Dataset<Row> ingest(Path dir, int expected) {
    IngestResult r = ImageIngest.ingest(spark, dir.toUri().toString(), new LabelSource.FilenamePrefix());
    if (r.accepted() != expected) {
      throw new IllegalStateException(
          "Ingest of " + dir + " accepted " + r.accepted() + " images; expected " + expected);
    }
    return r.images();
  }

  /** The base's preprocessing (decode ceiling resizes exactly as the base does). */
  static Preprocessing preprocessingOf(ImageBase base) {
    io.bottleneck.nets.BaseDeclaration declared = io.bottleneck.nets.DeclaredBases.get(base.id());
    if (declared != null) {
      return declared.preprocessing();
    }
    for (Preprocessing p : List.of(Preprocessing.plusMinusOne(base.inputSize()), Preprocessing.caffe(base.inputSize()))) {
      if (p.id().equals(base.preprocessingId())) {
        return p;
      }
    }
    throw new IllegalStateException("Unknown preprocessing " + base.preprocessingId() + " of base " + base.id());
  }

  // ---------------------------------------------------------------------------- engines

  /** Images of the engine table: the slowest engine (DL4J, ~10-40 img/s per core) limits it. */
  static final int ENGINE_IMAGES = 256;

  /**
   * The base's forward pass on every engine that runs it ({@link #forwardSeconds}, one network
   * per thread), and each engine's largest feature difference from the reference engine (DL4J,
   * the reference implementation, where it runs the base; else the first engine) on one batch.
   */
  static List<BenchReport.EngineRow> engineTable(List<Path> files, String baseId, int threads, int batchSize) {
    List<String> engines = new ArrayList<>(Bases.engines(baseId));
    String reference = engines.contains(Bases.ENGINE_DL4J) ? Bases.ENGINE_DL4J : engines.get(0);
    engines.remove(reference);
    engines.add(0, reference);
    List<Path> sample = files.subList(0, Math.min(files.size(), ENGINE_IMAGES));
    List<Path> compared = sample.subList(0, Math.min(sample.size(), batchSize));
    float[][] expected = null;
    List<BenchReport.EngineRow> rows = new ArrayList<>();
    for (String engine : engines) {
      List<ImageBase> bases = new ArrayList<>();
      try {
        for (int t = 0; t < threads; t++) {
          bases.add(Bases.load(baseId, engine));
        }
        double seconds = forwardSeconds(sample, bases, batchSize);
        float[][] features = featuresOf(bases.get(0), compared);
        if (expected == null) {
          expected = features;
        }
        double diff = 0;
        for (int i = 0; i < features.length; i++) {
          for (int j = 0; j < features[i].length; j++) {
            diff = Math.max(diff, Math.abs(features[i][j] - expected[i][j]));
          }
        }
        rows.add(new BenchReport.EngineRow(engine, sample.size(), seconds, diff, reference));
        LOG.info("bench: forward on {}, {} threads: {} img/s, max abs diff to {} {}", engine, threads,
            rate(sample.size(), seconds), reference, diff);
      } finally {
        bases.forEach(ImageBase::close);
      }
    }
    return rows;
  }

  private static float[][] featuresOf(ImageBase base, List<Path> files) {
    List<byte[]> bytes = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (Path f : files) {
      try {
        bytes.add(Files.readAllBytes(f));
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read " + f, e);
      }
      names.add(f.toString());
    }
    try {
      return base.featurizeFiles(bytes, names);
    } catch (io.bottleneck.io.UndecodableImageException e) {
      throw new IllegalStateException("A generated image does not decode: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------------------- decode, bare

  /**
   * Seconds for {@code bases.size()} threads, one base each, to read every file and write its
   * network input as the featurize stage does ({@link ImageBase#readInput}), after a warm-up.
   */
  static double decodeSeconds(List<Path> files, List<ImageBase> bases) {
    int perImage = 3 * bases.get(0).inputSize() * bases.get(0).inputSize();
    Map<ImageBase, float[]> buffers = new IdentityHashMap<>();
    bases.forEach(b -> buffers.put(b, new float[perImage]));
    ObjIntConsumer<ImageBase> decode = (base, i) -> readInput(base, files.get(i), buffers.get(base), 0);
    inParallel(bases, decode, Math.min(files.size(), 4 * bases.size()));
    long t0 = System.nanoTime();
    inParallel(bases, decode, files.size());
    return seconds(t0);
  }

  /** Seconds to read, decode and resize every file in Java on {@code threads} threads (after a warm-up). */
  static double decodeJavaSeconds(List<Path> files, Preprocessing preprocessing, int threads) {
    decodeAll(files.subList(0, Math.min(files.size(), 4 * threads)), preprocessing, threads);
    long t0 = System.nanoTime();
    decodeAll(files, preprocessing, threads);
    return seconds(t0);
  }

  /**
   * Seconds for {@code bases.size()} threads, one base each, to run as many forward passes of
   * {@code batchSize} as the files fill, on one input batch per base read from the first files
   * (untimed, as is one warm-up pass per base).
   */
  static double forwardSeconds(List<Path> files, List<ImageBase> bases, int batchSize) {
    int n = Math.min(batchSize, files.size());
    int perImage = 3 * bases.get(0).inputSize() * bases.get(0).inputSize();
    Map<ImageBase, float[]> inputs = new IdentityHashMap<>();
    for (ImageBase base : bases) {
      float[] batch = new float[n * perImage];
      for (int i = 0; i < n; i++) {
        readInput(base, files.get(i), batch, i);
      }
      inputs.put(base, batch);
    }
    inParallel(bases, (base, unused) -> base.forward(inputs.get(base), n), bases.size());
    int passes = (files.size() + n - 1) / n;
    long t0 = System.nanoTime();
    inParallel(bases, (base, unused) -> base.forward(inputs.get(base), n), passes);
    return seconds(t0) * files.size() / ((double) passes * n); // per file, as if the last pass were partial
  }

  private static double decodeAll(List<Path> files, Preprocessing preprocessing, int threads) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicInteger next = new AtomicInteger();
    int size = preprocessing.size();
    try {
      List<Future<Double>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        parts.add(pool.submit(() -> {
          float[] buffer = new float[3 * size * size];
          double checksum = 0;
          for (int i = next.getAndIncrement(); i < files.size(); i = next.getAndIncrement()) {
            preprocessing.fill(read(files.get(i)), buffer, 0);
            checksum += buffer[i % buffer.length];
          }
          return checksum;
        }));
      }
      double checksum = 0;
      for (Future<Double> f : parts) {
        checksum += f.get();
      }
      return checksum;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Decoding failed: " + e.getCause().getMessage(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Seconds for {@code bases.size()} threads, one base each, to read, decode, preprocess and
   * forward every file in batches of {@code batchSize} taken in turn, after one untimed warm-up
   * batch per base.
   */
  static double bareSeconds(List<Path> files, List<ImageBase> bases, int batchSize) {
    List<List<Path>> batches = new ArrayList<>();
    for (int i = 0; i < files.size(); i += batchSize) {
      batches.add(files.subList(i, Math.min(files.size(), i + batchSize)));
    }
    inParallel(bases, (base, unused) -> forward(base, batches.get(0)), 1);
    long t0 = System.nanoTime();
    inParallel(bases, (base, i) -> forward(base, batches.get(i)), batches.size());
    return seconds(t0);
  }

  /** Runs {@code work(base, i)} for i in [0, count), each base in its own thread taking the next i. */
  private static void inParallel(List<ImageBase> bases, ObjIntConsumer<ImageBase> work, int count) {
    ExecutorService pool = Executors.newFixedThreadPool(bases.size());
    AtomicInteger next = new AtomicInteger();
    try {
      List<Future<?>> running = new ArrayList<>();
      for (ImageBase base : bases) {
        running.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            work.accept(base, i);
          }
        }));
      }
      for (Future<?> f : running) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("Benchmark work failed: " + e.getCause().getMessage(), e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private static void forward(ImageBase base, List<Path> batch) {
    List<byte[]> files = new ArrayList<>(batch.size());
    List<String> names = new ArrayList<>(batch.size());
    for (Path p : batch) {
      files.add(bytes(p));
      names.add(p.toString());
    }
    float[][] features;
    try {
      features = base.featurizeFiles(files, names);
    } catch (UndecodableImageException e) {
      throw new IllegalStateException("Benchmark image " + e.name() + " does not decode: " + e.reason(), e);
    }
    if (features.length != batch.size()) {
      throw new IllegalStateException("The base returned " + features.length + " vectors for " + batch.size() + " images");
    }
  }

  private static void readInput(ImageBase base, Path file, float[] batch, int index) {
    try {
      base.readInput(bytes(file), file.toString(), batch, index);
    } catch (UndecodableImageException e) {
      throw new IllegalStateException("Benchmark image " + file + " does not decode: " + e.reason(), e);
    }
  }

  private static byte[] bytes(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read " + file, e);
    }
  }

  private static BufferedImage read(Path file) {
    try {
      return Images.decode(bytes(file), file.toString());
    } catch (UndecodableImageException e) {
      throw new IllegalStateException("Benchmark image " + file + " does not decode: " + e.reason(), e);
    }
  }

  // ---------------------------------------------------------------------------- featurize

  private record Cold(Featurizer.Result result, double seconds, long startRss, long peakRss, long peakHeap) {}

  /**
   * Featurizes the first {@link #WARM_UP_IMAGES} of {@code images} (all of them in the default
   * run) into a throwaway cache, as the timed run will, and returns its seconds. Every task
   * thread then has its pooled network, and the JIT has compiled what the stage runs per image,
   * per row and per task — TF calls, Hadoop file reads, Parquet writes, task serialization — as
   * a long-lived executor would have. After a warm-up of only two batches per core, C2
   * compilation took ~20% of the CPU during the timed run of 2,000 images (perf; JFR counted
   * 9.6 s of C2 compile time in its 11 s, against 1.6 s during the bare loop). The bare loop is
   * measured warm too, after the decode and forward measurements and a warm-up batch. Then the
   * same again on the warm-up cache, untimed, for the warm run's code paths.
   */
  private double warmUp(Dataset<Row> images, String cache, int n) {
    Dataset<Row> some = n <= WARM_UP_IMAGES ? images : images.orderBy(Columns.CONTENT_HASH).limit(WARM_UP_IMAGES);
    long t0 = System.nanoTime();
    featurize(some, cache).close();
    double first = seconds(t0);
    // and once on the now full cache, so the timed warm run is not the first to plan, generate
    // code for and compile the join and counting pass either (measured: 1.9 s first, 0.7 s after)
    featurize(some, cache).close();
    return first;
  }

  /** The cold stage over {@code images} (all distinct), with memory sampled meanwhile. */
  private Cold featurizeCold(Dataset<Row> images, String cache, int expected) {
    Featurizer.Result r;
    double s;
    PeakMemory memory = PeakMemory.start(MEMORY_PERIOD_MS);
    try (memory) {
      long t0 = System.nanoTime();
      r = featurize(images, cache);
      s = seconds(t0);
    }
    if (r.computed() != expected) {
      throw new IllegalStateException(
          "The cold run computed " + r.computed() + " images; expected " + expected + " (cache " + cache + ")");
    }
    return new Cold(r, s, memory.startRssBytes(), memory.peakRssBytes(), memory.peakHeapBytes());
  }

  /** The stage: featurize through the cache, then materialize every output row and column. */
  private Featurizer.Result featurize(Dataset<Row> images, String cache) {
    Featurizer.Result r =
        Featurizer.featurize(
            spark, images, settings.base(), settings.engine(), cache, settings.batchSize(), settings.partitions());
    r.featured().write().format("noop").mode(SaveMode.Overwrite).save();
    return r;
  }

  // ---------------------------------------------------------------------------- head

  private record HeadTimes(double sparkEpoch, double sparkFit, double localEpoch) {}

  /**
   * Spark: the fastest of {@code headRepeats} timed 1-epoch and (1 + {@value #EXTRA_EPOCHS})-epoch
   * {@code HeadTrainer.fit} calls (after an untimed 1-epoch warm-up); the epoch is their
   * difference divided by {@value #EXTRA_EPOCHS}, which leaves out what every call pays once
   * (input checks, caching the rows as examples) and keeps what every epoch pays (the seeded
   * shuffle into mini-batches, the parameter-averaging rounds, the pass for the epoch's
   * training loss and accuracy).
   * Local: the fastest of {@code headRepeats} {@code MultiLayerNetwork.fit} epochs on fresh
   * networks of the same configuration, after a warm-up epoch.
   */
  private HeadTimes headTimes(Dataset<Row> featured) {
    List<String> classes = new ArrayList<>();
    for (Row r : featured.select(Columns.LABEL).where(col(Columns.LABEL).isNotNull()).distinct().orderBy(Columns.LABEL).collectAsList()) {
      classes.add(r.getString(0));
    }
    int numClasses = Math.max(2, classes.size());
    Column index = lit(0);
    for (int i = classes.size() - 1; i >= 0; i--) {
      index = when(col(Columns.LABEL).equalTo(classes.get(i)), lit(i)).otherwise(index);
    }
    Dataset<Row> train =
        featured.select(col(Columns.FEATURES), index.cast("int").as(Columns.LABEL_INDEX))
            .persist(StorageLevel.MEMORY_ONLY());
    try {
      long rows = train.count();
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      HeadConfig one = settings.head().withEpochs(1);
      HeadConfig longer = settings.head().withEpochs(1 + EXTRA_EPOCHS);
      HeadTrainer.fit(jsc, train, null, numClasses, one); // warm-up
      double fit1 = Double.MAX_VALUE;
      double fitLonger = Double.MAX_VALUE;
      for (int k = 0; k < settings.headRepeats(); k++) {
        fit1 = Math.min(fit1, time(() -> HeadTrainer.fit(jsc, train, null, numClasses, one)));
        fitLonger = Math.min(fitLonger, time(() -> HeadTrainer.fit(jsc, train, null, numClasses, longer)));
      }
      double sparkEpoch = (fitLonger - fit1) / EXTRA_EPOCHS;
      if (!(sparkEpoch > 0)) {
        LOG.warn(
            "bench: a {}-epoch fit ({} s) was not slower than a 1-epoch fit ({} s); using the 1-epoch fit",
            1 + EXTRA_EPOCHS, fmt(fitLonger), fmt(fit1));
        sparkEpoch = fit1;
      }
      LOG.info(
          "bench: head epoch on Spark: {} s (1-epoch fit {} s, {}-epoch fit {} s)",
          fmt(sparkEpoch), fmt(fit1), 1 + EXTRA_EPOCHS, fmt(fitLonger));

      List<DataSet> batches = localBatches(train.collectAsList(), numClasses, settings.head());
      int featureSize = batches.get(0).getFeatures().columns();
      HeadConfig local = settings.head().withEpochs(1);
      HeadNetwork.build(featureSize, numClasses, local).fit(new ExistingDataSetIterator(batches)); // warm-up
      double localEpoch = Double.MAX_VALUE;
      for (int k = 0; k < settings.headRepeats(); k++) {
        MultiLayerNetwork net = HeadNetwork.build(featureSize, numClasses, local);
        ExistingDataSetIterator it = new ExistingDataSetIterator(batches);
        long t0 = System.nanoTime();
        net.fit(it);
        localEpoch = Math.min(localEpoch, seconds(t0));
      }
      LOG.info("bench: head epoch in one JVM ({} rows): {} s", rows, fmt(localEpoch));
      return new HeadTimes(sparkEpoch, fit1, localEpoch);
    } finally {
      train.unpersist();
    }
  }

  /** Mini-batches of the head's batch size, rows in a seeded random order. */
  static List<DataSet> localBatches(List<Row> rows, int numClasses, HeadConfig head) {
    List<Row> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(head.seed()));
    int batch = head.batchSizePerWorker();
    List<DataSet> out = new ArrayList<>();
    for (int from = 0; from < shuffled.size(); from += batch) {
      List<Row> part = shuffled.subList(from, Math.min(shuffled.size(), from + batch));
      int d = part.get(0).getList(0).size();
      float[] features = new float[part.size() * d];
      float[] labels = new float[part.size() * numClasses];
      for (int i = 0; i < part.size(); i++) {
        List<Float> v = part.get(i).getList(0);
        for (int j = 0; j < d; j++) {
          features[i * d + j] = v.get(j);
        }
        labels[i * numClasses + part.get(i).getInt(1)] = 1f;
      }
      out.add(new DataSet(
          Nd4j.create(features, new long[] {part.size(), d}, DataType.FLOAT),
          Nd4j.create(labels, new long[] {part.size(), numClasses}, DataType.FLOAT)));
    }
    return out;
  }

  // ---------------------------------------------------------------------------- helpers

  private static double time(Supplier<?> work) {
    long t0 = System.nanoTime();
    work.get();
    return seconds(t0);
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  private static String rate(int n, double seconds) {
    return fmt(n / seconds);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Collections.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          LOG.warn("bench: cannot delete {}: {}", p, e.getMessage());
        }
      });
    } catch (IOException e) {
      LOG.warn("bench: cannot delete {}: {}", root, e.getMessage());
    }
  }
}
