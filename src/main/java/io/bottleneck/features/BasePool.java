package io.bottleneck.features;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import javax.imageio.ImageIO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Networks built in this JVM, kept for reuse: an executor builds one per concurrently running
 * task (instances are not thread-safe) and keeps it across tasks and stages, so the weights
 * are parsed once per task slot, not once per partition. Pooled per base id (and model hash, for declared bases) and engine.
 * Instances are never closed: they live as long as the executor JVM.
 */
final class BasePool {
  private static final Logger LOG = LoggerFactory.getLogger(BasePool.class);
  private static final Map<String, Queue<ImageBase>> IDLE = new ConcurrentHashMap<>();
  /** Guards {@link #BUILDING}; notified when an instance is given back or a prebuild ends. */
  private static final Object LOCK = new Object();
  /** Instances that {@link #prebuild} is still building, per pool key. */
  private static final Map<String, Integer> BUILDING = new HashMap<>();
  /** How long a task waits for a prebuilt instance before it builds its own. */
  private static final long MAX_WAIT_NANOS = TimeUnit.SECONDS.toNanos(60);
  /** Images in a prebuilt instance's warm-up pass, at most (its input: 19 MB at 224 x 224). */
  private static final int MAX_WARM_UP_IMAGES = 32;

  private BasePool() {}

  /** {@link #borrow(String, String, Supplier)} on {@link Bases#DEFAULT_ENGINE}. */
  static ImageBase borrow(String baseId, Supplier<byte[]> weights) {
    return borrow(baseId, Bases.DEFAULT_ENGINE, weights);
  }

  /**
   * An idle instance of the base on the engine, or a new one built from the shipped weights
   * (or the bundled ones when {@code weights} is null), asked for only then.
   */
  static ImageBase borrow(String baseId, String engine, Supplier<byte[]> weights) {
    // a declared base runs on its format's engine, whatever was asked for
    String runs = Bases.engineOf(baseId, engine);
    ImageBase idle = awaitIdle(Bases.poolKey(baseId, runs));
    if (idle != null) {
      return idle;
    }
    return weights == null
        ? Bases.load(baseId, runs)
        : Bases.fromWeights(baseId, weights.get(), runs);
  }

  /** Returns a borrowed instance; it goes back to the queue of its own id and engine. */
  static void giveBack(ImageBase base) {
    idle(base.poolKey() + "@" + base.engine()).add(base);
    synchronized (LOCK) {
      LOCK.notifyAll();
    }
  }

  /** Same as {@link #giveBack(ImageBase)}; {@code baseId} must be the instance's id. */
  static void giveBack(String baseId, ImageBase base) {
    if (!baseId.equals(base.id())) {
      throw new IllegalArgumentException("Base " + base.id() + " given back as " + baseId);
    }
    giveBack(base);
  }

  /**
   * An idle instance; while {@link #prebuild} is building one for the key, waits for it rather
   * than building another (the prebuilt one is usually nearly done, and two builds at once
   * would share the cores).
   */
  private static ImageBase awaitIdle(String poolKey) {
    long deadline = System.nanoTime() + MAX_WAIT_NANOS;
    synchronized (LOCK) {
      while (true) {
        ImageBase idle = idle(poolKey).poll();
        long left = deadline - System.nanoTime();
        if (idle != null || BUILDING.getOrDefault(poolKey, 0) == 0 || left <= 0) {
          return idle;
        }
        try {
          LOCK.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
    }
  }

  /**
   * Waits (at most {@code timeoutMillis}) until no prebuild is running: a JVM that exits while a
   * thread is inside an engine's native setup can crash in the engine's exit handlers, which
   * would turn a failing job's exit code into a signal.
   */
  static void awaitPrebuilds(long timeoutMillis) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    synchronized (LOCK) {
      while (BUILDING.values().stream().anyMatch(n -> n > 0)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return;
        }
        try {
          LOCK.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /**
   * Builds {@code count} instances of a built-in base in a background thread and pools them,
   * each warmed up with one forward pass of {@code batchSize} images (at most 32) (the first pass of a
   * session pays for graph optimization and kernel setup, about as long as building it). In
   * local mode the tasks run in this JVM: building them while the driver ingests and splits takes
   * seconds off the featurize stage. Failures are left for the tasks to meet and report.
   */
  static void prebuild(String baseId, String engine, int count, int batchSize) {
    String runs = Bases.engineOf(baseId, engine);
    String key = Bases.poolKey(baseId, runs);
    synchronized (LOCK) {
      BUILDING.merge(key, count, Integer::sum);
    }
    Thread builder =
        new Thread(
            () -> {
              for (int i = 0; i < count; i++) {
                long t0 = System.nanoTime();
                ImageBase built = null;
                try {
                  ImageBase base = Bases.load(baseId, runs);
                  byte[] jpeg = warmUpImage(base.inputSize());
                  int n = Math.min(batchSize, MAX_WARM_UP_IMAGES);
                  base.featurizeFiles(Collections.nCopies(n, jpeg), Collections.nCopies(n, "warm-up.jpg"));
                  built = base;
                  LOG.debug("prebuilt {} on {} in {} ms", baseId, runs, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
                } catch (Exception | LinkageError e) {
                  LOG.debug("prebuilding {} on {} failed; the tasks build their own", baseId, runs, e);
                } finally {
                  // pooled and counted done at once: a waiting task sees one or the other
                  synchronized (LOCK) {
                    if (built != null) {
                      idle(built.poolKey() + "@" + built.engine()).add(built);
                    }
                    BUILDING.merge(key, -1, Integer::sum);
                    LOCK.notifyAll();
                  }
                }
              }
            },
            "bottleneck-prebuild-" + baseId);
    builder.setDaemon(true);
    builder.start();
  }

  /** A JPEG of the network's input size (a gradient: some content, so decoding does real work). */
  private static byte[] warmUpImage(int size) throws IOException {
    BufferedImage image = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        image.setRGB(x, y, (x * 255 / size) << 16 | (y * 255 / size) << 8 | ((x + y) & 0xff));
      }
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    if (!ImageIO.write(image, "jpg", bytes)) {
      throw new UncheckedIOException(new IOException("No JPEG writer"));
    }
    return bytes.toByteArray();
  }

  /** Idle instances of a pool key and instances being prebuilt for it, for tests. */
  static int[] state(String poolKey) {
    synchronized (LOCK) {
      return new int[] {idle(poolKey).size(), BUILDING.getOrDefault(poolKey, 0)};
    }
  }

  private static Queue<ImageBase> idle(String poolKey) {
    return IDLE.computeIfAbsent(poolKey, k -> new ConcurrentLinkedQueue<>());
  }
}
