package io.bottleneck.features;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Supplier;

/**
 * Networks built in this JVM, kept for reuse: an executor builds one per concurrently running
 * task (instances are not thread-safe) and keeps it across tasks and stages, so the weights
 * are parsed once per task slot, not once per partition. Pooled per base id (and model hash, for declared bases) and engine.
 * Instances are never closed: they live as long as the executor JVM.
 */
final class BasePool {
  private static final Map<String, Queue<ImageBase>> IDLE = new ConcurrentHashMap<>();

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
    ImageBase idle = idle(Bases.poolKey(baseId, runs)).poll();
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
  }

  /** Same as {@link #giveBack(ImageBase)}; {@code baseId} must be the instance's id. */
  static void giveBack(String baseId, ImageBase base) {
    if (!baseId.equals(base.id())) {
      throw new IllegalArgumentException("Base " + base.id() + " given back as " + baseId);
    }
    giveBack(base);
  }

  private static Queue<ImageBase> idle(String poolKey) {
    return IDLE.computeIfAbsent(poolKey, k -> new ConcurrentLinkedQueue<>());
  }
}
