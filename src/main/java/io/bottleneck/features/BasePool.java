package io.bottleneck.features;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.broadcast.Broadcast;

/**
 * Networks built in this JVM, kept for reuse: an executor builds one per concurrently running
 * task (instances are not thread-safe) and keeps it across tasks and stages, so the weights
 * are parsed once per task slot, not once per partition. Pooled per base id and engine.
 * Instances are never closed: they live as long as the executor JVM.
 */
final class BasePool {
  private static final Map<String, Queue<ImageBase>> IDLE = new ConcurrentHashMap<>();

  private BasePool() {}

  /** {@link #borrow(String, String, Broadcast)} on {@link Bases#DEFAULT_ENGINE}. */
  static ImageBase borrow(String baseId, Broadcast<byte[]> weights) {
    return borrow(baseId, Bases.DEFAULT_ENGINE, weights);
  }

  /**
   * An idle instance of the base on the engine, or a new one built from the broadcast weights
   * (or the bundled ones when {@code weights} is null).
   */
  static ImageBase borrow(String baseId, String engine, Broadcast<byte[]> weights) {
    ImageBase idle = idle(baseId, Bases.checkEngine(engine)).poll();
    if (idle != null) {
      return idle;
    }
    return weights == null
        ? Bases.load(baseId, engine)
        : Bases.fromWeights(baseId, weights.value(), engine);
  }

  /** Returns a borrowed instance; it goes back to the queue of its own id and engine. */
  static void giveBack(ImageBase base) {
    idle(base.id(), base.engine()).add(base);
  }

  /** Same as {@link #giveBack(ImageBase)}; {@code baseId} must be the instance's id. */
  static void giveBack(String baseId, ImageBase base) {
    if (!baseId.equals(base.id())) {
      throw new IllegalArgumentException("Base " + base.id() + " given back as " + baseId);
    }
    giveBack(base);
  }

  private static Queue<ImageBase> idle(String baseId, String engine) {
    return IDLE.computeIfAbsent(baseId + "@" + engine, k -> new ConcurrentLinkedQueue<>());
  }
}
