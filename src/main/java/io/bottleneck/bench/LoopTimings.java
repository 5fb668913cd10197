package io.bottleneck.bench;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ObjIntConsumer;

/**
 * The benchmark's measurements without Spark, on threads of this JVM with one base each: the
 * decode ceiling (the engine's decoder, and Java's for comparison), the forward pass alone, and
 * the bare featurize loop. They are what {@link Benchmark} sets the Spark stage against.
 */
final class LoopTimings {
  private LoopTimings() {}

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
    return Timing.seconds(t0);
  }

  /** Seconds to read, decode and resize every file in Java on {@code threads} threads (after a warm-up). */
  static double decodeJavaSeconds(List<Path> files, Preprocessing preprocessing, int threads) {
    decodeAll(files.subList(0, Math.min(files.size(), 4 * threads)), preprocessing, threads);
    long t0 = System.nanoTime();
    decodeAll(files, preprocessing, threads);
    return Timing.seconds(t0);
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
    return Timing.seconds(t0) * files.size() / ((double) passes * n); // per file, as if the last pass were partial
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
    return Timing.seconds(t0);
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
}
