package io.bottleneck.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What one benchmark run measured (raw seconds and bytes), and the derived rates and ratios as a
 * readable table and as the JSON object the command prints last. Ratios are computed from the
 * unrounded values.
 *
 * @param images images in the main measurements (all distinct)
 * @param loadAverage the machine's 1-minute load average when the run started (other work on the
 *     cores skews every figure)
 * @param featurizeFirstSeconds the featurize stage's first call in this JVM (building the
 *     networks and JIT compilation included) over {@code min(images, warmUpImages)} images
 * @param decodeSeconds read + decode + resize of all images on {@code cores} threads, as the
 *     featurize stage does it (the engine's decoder where it has one)
 * @param decodeJavaSeconds the same with the Java decoder and resize
 * @param forwardSeconds the forward pass alone over as many images, {@code cores} threads
 * @param bareSeconds read + decode + preprocess + forward of all images, {@code cores} threads,
 *     one base each
 * @param featurizeColdSeconds the featurize stage through Spark, fresh cache
 * @param featurizeComputeImgPerS the stage's own figure: images computed / compute seconds
 * @param featurizeWarmSeconds the same stage re-run on the same cache
 * @param headEpochSparkSeconds one head epoch with parameter averaging on Spark
 * @param headFitSparkSeconds a whole one-epoch {@code HeadTrainer.fit} call
 * @param headEpochLocalSeconds one {@code MultiLayerNetwork.fit} epoch in this JVM
 * @param scale the scaling steps, one per size
 * @param engines the forward pass of the base on every engine that runs it, and how far its
 *     features are from the reference engine's
 */
public record BenchReport(
    int images,
    String base,
    String engine,
    int batchSize,
    int cores,
    String master,
    String date,
    double loadAverage,
    double featurizeFirstSeconds,
    double decodeSeconds,
    double decodeJavaSeconds,
    double forwardSeconds,
    double bareSeconds,
    double featurizeColdSeconds,
    double featurizeComputeImgPerS,
    double featurizeWarmSeconds,
    long featurizePeakRssBytes,
    long featurizePeakHeapBytes,
    double headEpochSparkSeconds,
    double headFitSparkSeconds,
    double headEpochLocalSeconds,
    List<ScaleStep> scale,
    List<EngineRow> engines) {

  private static final double MB = 1024.0 * 1024.0;
  /** Features further than this from the reference engine's would not share its cache entries. */
  public static final double ENGINE_TOLERANCE = 1e-4;

  public BenchReport {
    scale = List.copyOf(scale);
    engines = List.copyOf(engines);
  }

  /**
   * One engine's forward pass of the base: {@code images} preprocessed inputs on all cores in
   * {@code seconds}, and the largest absolute difference of its features from the reference
   * engine's ({@code reference}: DL4J where it runs the base) on the same images.
   */
  public record EngineRow(String engine, int images, double seconds, double maxAbsDiff, String reference) {
    public double imgPerS() {
      return images / seconds;
    }

    public boolean withinTolerance() {
      return maxAbsDiff <= ENGINE_TOLERANCE;
    }
  }

  /** The fastest engine whose features stay within {@link #ENGINE_TOLERANCE} of the reference; null if none. */
  public String fastestEngine() {
    return engines.stream().filter(EngineRow::withinTolerance)
        .max(java.util.Comparator.comparingDouble(EngineRow::imgPerS)).map(EngineRow::engine).orElse(null);
  }

  /**
   * One size of the scaling run: the cold featurize stage over {@code images} distinct images and
   * this JVM's memory meanwhile, and the same stage re-run on the now full cache.
   */
  public record ScaleStep(
      int images, double seconds, double warmSeconds, long startRssBytes, long peakRssBytes, long peakHeapBytes) {
    public double secondsPer1000() {
      return seconds / images * 1000;
    }

    public double warmVsCold() {
      return warmSeconds / seconds;
    }

    public double imgPerS() {
      return images / seconds;
    }
  }

  public double decodeImgPerS() {
    return images / decodeSeconds;
  }

  /** Rate of the first featurize call in the JVM, over the warm-up's images. */
  public double featurizeFirstImgPerS() {
    return Math.min(images, FeaturizeTimings.WARM_UP_IMAGES) / featurizeFirstSeconds;
  }

  public double decodeJavaImgPerS() {
    return images / decodeJavaSeconds;
  }

  public double forwardImgPerS() {
    return images / forwardSeconds;
  }

  public double bareImgPerS() {
    return images / bareSeconds;
  }

  public double featurizeImgPerS() {
    return images / featurizeColdSeconds;
  }

  public double featurizeVsBare() {
    return featurizeImgPerS() / bareImgPerS();
  }

  public double featurizeVsDecode() {
    return featurizeImgPerS() / decodeImgPerS();
  }

  public double warmVsCold() {
    return featurizeWarmSeconds / featurizeColdSeconds;
  }

  public double headSparkVsLocal() {
    return headEpochSparkSeconds / headEpochLocalSeconds;
  }

  /** The JSON object (insertion-ordered); rounded for reading, ratios from raw values. */
  public Map<String, Object> toJson() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", images);
    m.put("base", base);
    m.put("engine", engine);
    m.put("batch_size", batchSize);
    m.put("cores", cores);
    m.put("master", master);
    m.put("date", date);
    m.put("load_average", round(loadAverage, 2));
    m.put("decode_img_per_s", round(decodeImgPerS(), 2));
    m.put("decode_java_img_per_s", round(decodeJavaImgPerS(), 2));
    m.put("forward_img_per_s", round(forwardImgPerS(), 2));
    m.put("bare_img_per_s", round(bareImgPerS(), 2));
    m.put("featurize_img_per_s", round(featurizeImgPerS(), 2));
    m.put("featurize_compute_img_per_s", round(featurizeComputeImgPerS, 2));
    m.put("featurize_first_img_per_s", round(featurizeFirstImgPerS(), 2));
    m.put("featurize_vs_bare", round(featurizeVsBare(), 4));
    m.put("featurize_vs_decode", round(featurizeVsDecode(), 4));
    m.put("featurize_cold_s", round(featurizeColdSeconds, 3));
    m.put("featurize_warm_s", round(featurizeWarmSeconds, 3));
    m.put("warm_vs_cold", round(warmVsCold(), 4));
    m.put("featurize_peak_rss_mb", round(featurizePeakRssBytes / MB, 1));
    m.put("featurize_peak_heap_mb", round(featurizePeakHeapBytes / MB, 1));
    m.put("head_epoch_spark_s", round(headEpochSparkSeconds, 3));
    m.put("head_epoch_local_s", round(headEpochLocalSeconds, 4));
    m.put("head_spark_vs_local", round(headSparkVsLocal(), 2));
    m.put("head_fit_spark_s", round(headFitSparkSeconds, 3));
    List<Map<String, Object>> steps = new ArrayList<>();
    for (ScaleStep s : scale) {
      Map<String, Object> step = new LinkedHashMap<>();
      step.put("images", s.images());
      step.put("featurize_s", round(s.seconds(), 2));
      step.put("s_per_1000", round(s.secondsPer1000(), 2));
      step.put("img_per_s", round(s.imgPerS(), 2));
      step.put("featurize_vs_bare", round(s.imgPerS() / bareImgPerS(), 4));
      step.put("warm_s", round(s.warmSeconds(), 3));
      step.put("warm_vs_cold", round(s.warmVsCold(), 4));
      step.put("start_rss_mb", round(s.startRssBytes() / MB, 1));
      step.put("peak_rss_mb", round(s.peakRssBytes() / MB, 1));
      step.put("peak_heap_mb", round(s.peakHeapBytes() / MB, 1));
      steps.add(step);
    }
    m.put("scale", steps);
    List<Map<String, Object>> engineRows = new ArrayList<>();
    for (EngineRow e : engines) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("engine", e.engine());
      row.put("forward_img_per_s", round(e.imgPerS(), 2));
      row.put("max_abs_diff", e.maxAbsDiff());
      row.put("reference", e.reference());
      engineRows.add(row);
    }
    m.put("engines", engineRows);
    m.put("fastest_engine", fastestEngine());
    return m;
  }

  /** Aligned, human-readable table (several lines, each ending with a newline). */
  public String table() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "Bottleneck bench: %d distinct images, %s on %s, batch %d, %d cores (load %.2f), %s, %s%n",
            images, base, engine, batchSize, cores, loadAverage, master, date));
    String row = "  %-44s %12s  %s%n";
    b.append(String.format(Locale.ROOT, row, "measure", "value", "unit / note"));
    b.append(String.format(Locale.ROOT, row, "decode + resize, all cores (ceiling)", f2(decodeImgPerS()), "img/s"));
    b.append(String.format(Locale.ROOT, row, "  the same, Java decoder", f2(decodeJavaImgPerS()), "img/s"));
    b.append(String.format(Locale.ROOT, row, "forward pass alone, all cores", f2(forwardImgPerS()), "img/s"));
    b.append(String.format(Locale.ROOT, row, "bare loop, all cores, no Spark", f2(bareImgPerS()), "img/s"));
    b.append(
        String.format(
            Locale.ROOT, row, "featurize stage on Spark, cache cold", f2(featurizeImgPerS()),
            "img/s (" + f2(featurizeColdSeconds) + " s; compute alone " + f2(featurizeComputeImgPerS) + " img/s)"));
    b.append(
        String.format(
            Locale.ROOT, row, "  the same, first call in this JVM", f2(featurizeFirstImgPerS()),
            "img/s (networks built, JIT compiling; untimed warm-up)"));
    b.append(String.format(Locale.ROOT, row, "featurize / bare", f4(featurizeVsBare()), "target >= 0.85"));
    b.append(String.format(Locale.ROOT, row, "featurize / decode", f4(featurizeVsDecode()), "target >= 0.5"));
    b.append(
        String.format(
            Locale.ROOT, row, "featurize, cache warm / cold", f4(warmVsCold()),
            "target <= 0.10 (warm " + f2(featurizeWarmSeconds) + " s)"));
    b.append(
        String.format(
            Locale.ROOT, row, "featurize peak RSS / heap", mb(featurizePeakRssBytes) + " / " + mb(featurizePeakHeapBytes), "MB"));
    b.append(
        String.format(
            Locale.ROOT, row, "head epoch, Spark parameter averaging", f3(headEpochSparkSeconds),
            "s (whole 1-epoch fit " + f2(headFitSparkSeconds) + " s)"));
    b.append(String.format(Locale.ROOT, row, "head epoch, MultiLayerNetwork.fit", f4(headEpochLocalSeconds), "s"));
    b.append(String.format(Locale.ROOT, row, "head Spark / local", f2(headSparkVsLocal()), "target <= 2"));
    if (!engines.isEmpty()) {
      b.append(String.format(Locale.ROOT, "Engines (forward pass alone, all cores, batch %d, %d images):%n",
          batchSize, engines.get(0).images()));
      String erow = "  %-12s %12s %14s  %s%n";
      b.append(String.format(Locale.ROOT, erow, "engine", "img/s", "max abs diff", "vs " + engines.get(0).reference()));
      for (EngineRow e : engines) {
        b.append(String.format(Locale.ROOT, erow, e.engine(), f2(e.imgPerS()), String.format(Locale.ROOT, "%.2g", e.maxAbsDiff()),
            e.engine().equals(fastestEngine()) ? "fastest within " + ENGINE_TOLERANCE : ""));
      }
    }
    if (!scale.isEmpty()) {
      b.append(String.format(Locale.ROOT, "Scaling (featurize stage, cache cold):%n"));
      String srow = "  %8s %12s %10s %10s %8s %11s %14s %14s%n";
      b.append(String.format(Locale.ROOT, srow, "images", "s / 1,000", "img/s", "seconds", "/ bare", "warm / cold", "peak RSS MB", "peak heap MB"));
      for (ScaleStep s : scale) {
        b.append(
            String.format(
                Locale.ROOT, srow, s.images(), f2(s.secondsPer1000()), f2(s.imgPerS()), f2(s.seconds()),
                f4(s.imgPerS() / bareImgPerS()), f4(s.warmVsCold()),
                mb(s.peakRssBytes()) + " (" + mb(s.startRssBytes()) + ")", mb(s.peakHeapBytes())));
      }
      b.append(String.format(Locale.ROOT, "  (RSS at the start of each step in parentheses)%n"));
    }
    return b.toString();
  }

  static double round(double v, int decimals) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return v;
    }
    double scaleFactor = Math.pow(10, decimals);
    return Math.round(v * scaleFactor) / scaleFactor;
  }

  private static String f2(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }

  private static String f3(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  private static String f4(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }

  private static String mb(long bytes) {
    return String.format(Locale.ROOT, "%.0f", bytes / MB);
  }
}
