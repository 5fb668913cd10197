package io.bottleneck.bench;

import static io.bottleneck.bench.Timing.fmt;
import static io.bottleneck.bench.Timing.rate;
import static io.bottleneck.bench.Timing.seconds;

import io.bottleneck.features.Featurizer;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Images;
import io.bottleneck.io.Json;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadTrainer;
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
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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
 *       {@link FeaturizeTimings#WARM_UP_IMAGES}) into another cache comes first, so that, as for the bare loop,
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
 *
 * <p>This class prepares the images and runs the measurements in order; each kind has its own
 * class: {@link LoopTimings} (decode, forward, bare), {@link EngineComparison} (the engine
 * table), {@link FeaturizeTimings} (featurize warm-up, cold with {@link PeakMemory}, warm, scale)
 * and {@link HeadEpochTimings} (head epoch).
 */
public final class Benchmark {
  private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
  /** Timed repetitions of each head measurement by default; the fastest counts. */
  public static final int HEAD_REPEATS = 2;

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

      double decode = LoopTimings.decodeSeconds(main.files(), bases);
      LOG.info("bench: decode + resize, {} threads: {} img/s", cores, rate(n, decode));
      double decodeJava = LoopTimings.decodeJavaSeconds(main.files(), preprocessing, cores);
      LOG.info("bench: decode + resize in Java, {} threads: {} img/s", cores, rate(n, decodeJava));
      double forward = LoopTimings.forwardSeconds(main.files(), bases, settings.batchSize());
      LOG.info("bench: forward alone, {} threads, batch {}: {} img/s", cores, settings.batchSize(), rate(n, forward));
      double bare = LoopTimings.bareSeconds(main.files(), bases, settings.batchSize());
      bases.forEach(ImageBase::close);
      LOG.info("bench: bare loop, {} threads, batch {}: {} img/s", cores, settings.batchSize(), rate(n, bare));
      List<BenchReport.EngineRow> engines =
          EngineComparison.engineTable(main.files(), settings.base(), cores, settings.batchSize());

      FeaturizeTimings stage = new FeaturizeTimings(spark, settings);
      IngestResult ingested = ingest(main.dir(), n);
      Dataset<Row> images = ingested.images();
      double first = stage.warmUp(images, caches.resolve("warm-up").toUri().toString(), n);
      LOG.info("bench: featurize, first call in this JVM (untimed warm-up): {} img/s",
          rate(Math.min(n, FeaturizeTimings.WARM_UP_IMAGES), first));
      String cache = caches.resolve("main").toUri().toString();
      FeaturizeTimings.Cold cold = stage.featurizeCold(images, cache, n);
      cold.result().close();
      LOG.info("bench: featurize, cache cold: {} img/s", rate(n, cold.seconds()));
      long t0 = System.nanoTime();
      Featurizer.Result warm = stage.featurize(images, cache);
      double warmSeconds = seconds(t0);
      if (warm.computed() != 0) {
        throw new IllegalStateException("The warm run computed " + warm.computed() + " images; expected 0");
      }
      LOG.info("bench: featurize, cache warm: {} s", fmt(warmSeconds));

      HeadEpochTimings.HeadTimes head = new HeadEpochTimings(spark, settings).measure(warm.featured());
      warm.close();
      ingested.close();

      List<BenchReport.ScaleStep> steps = new ArrayList<>();
      for (int size : new TreeSet<>(settings.scale())) {
        JitteredImages.Generated g = images(sources, size);
        IngestResult scaledIngest = ingest(g.dir(), size);
        Dataset<Row> scaled = scaledIngest.images();
        String scaleCache = caches.resolve("scale-" + size).toUri().toString();
        FeaturizeTimings.Cold c = stage.featurizeCold(scaled, scaleCache, size);
        c.result().close();
        long w0 = System.nanoTime();
        stage.featurize(scaled, scaleCache).close();
        double warmScaled = seconds(w0);
        scaledIngest.close();
        steps.add(new BenchReport.ScaleStep(size, c.seconds(), warmScaled, c.startRss(), c.peakRss(), c.peakHeap()));
        LOG.info(
            "bench: scale {} images: {} s per 1,000, warm / cold {}, peak RSS {} MB",
            size, fmt(c.seconds() / size * 1000), fmt(warmScaled / c.seconds()), c.peakRss() >> 20);
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
          cold.seconds(),
          cold.result().imagesPerSecond(),
          warmSeconds,
          cold.peakRss(),
          cold.peakHeap(),
          head.sparkEpoch(),
          head.sparkFit(),
          head.localEpoch(),
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
    List<Row> rows;
    try (IngestResult ingested = ImageIngest.ingest(spark, input, LabelSource.parse(settings.labelFrom()))) {
      rows = ingested.images().select(Columns.PATH, Columns.LABEL).orderBy(Columns.PATH).limit(max).collectAsList();
    }
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

  /** A generated folder through the ingest stage (persisted until closed). */
  private IngestResult ingest(Path dir, int expected) {
    IngestResult r = ImageIngest.ingest(spark, dir.toUri().toString(), new LabelSource.FilenamePrefix());
    if (r.accepted() != expected) {
      r.close();
      throw new IllegalStateException(
          "Ingest of " + dir + " accepted " + r.accepted() + " images; expected " + expected);
    }
    return r;
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