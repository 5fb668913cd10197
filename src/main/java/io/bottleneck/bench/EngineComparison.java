package io.bottleneck.bench;

import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's engine table: the base's forward pass on every engine that runs it, and how far
 * each engine's features are from the reference engine's. Apart from the other measurements
 * because it loads the base once per engine, not only on the engine the run featurizes with.
 */
final class EngineComparison {
  /** Benchmark's logger: the log lines keep their name. */
  private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);

  private EngineComparison() {}

  /** Images of the engine table: the slowest engine (DL4J, ~10-40 img/s per core) limits it. */
  static final int ENGINE_IMAGES = 256;

  /**
   * The base's forward pass on every engine that runs it ({@link LoopTimings#forwardSeconds}, one network
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
        double seconds = LoopTimings.forwardSeconds(sample, bases, batchSize);
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
            Timing.rate(sample.size(), seconds), reference, diff);
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
    } catch (UndecodableImageException e) {
      throw new IllegalStateException("A generated image does not decode: " + e.getMessage(), e);
    }
  }
}
