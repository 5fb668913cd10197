package io.bottleneck.features;

import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.broadcast.Broadcast;

/**
 * Networks built in this JVM, kept for reuse: an executor builds one per concurrently running
 * task (instances are not thread-safe) and keeps it across tasks and stages, so the weights
 * are parsed once per task slot, not once per partition.
 */
final class BasePool {
  private static final Map<String, Queue<ImageBase>> IDLE = new ConcurrentHashMap<>();

  private BasePool() {}

  /** An idle instance, or a new one built from the broadcast weights (or the bundled ones). */
  static ImageBase borrow(String baseId, Broadcast<byte[]> weights) {
    ImageBase idle = IDLE.computeIfAbsent(baseId, k -> new ConcurrentLinkedQueue<>()).poll();
    if (idle != null) {
      return idle;
    }
    return weights == null ? Bases.load(baseId) : Bases.fromWeights(baseId, weights.value());
  }

  static void giveBack(String baseId, ImageBase base) {
    IDLE.computeIfAbsent(baseId, k -> new ConcurrentLinkedQueue<>()).add(base);
  }
}
