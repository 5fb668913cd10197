package io.bottleneck.features;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What the driver needs to know of a base (cache key, vector length) without running it. */
record BaseInfo(String id, String preprocessingId, int featureSize, int inputSize) {
  private static final Map<String, BaseInfo> KNOWN = new ConcurrentHashMap<>();

  static BaseInfo of(String baseId, String engine) {
    return KNOWN.computeIfAbsent(
        Bases.poolKey(baseId, Bases.engineOf(baseId, engine)),
        key -> {
          BaseInfo described = described(baseId, engine);
          return described != null ? described : built(baseId, engine);
        });
  }

  /**
   * A built-in architecture at any input size, whole or without its last blocks, on an engine
   * that runs it: its descriptor says all of it (ArchitecturesTest holds every engine to it), so
   * the driver builds no network (seconds, and memory a cluster's driver would hold for
   * nothing). Null for the others (declared bases, pixels).
   */
  static BaseInfo described(String baseId, String engine) {
    if (Bases.isDeclared(baseId) || Bases.pixelSize(baseId) >= 0) {
      return null;
    }
    Architecture architecture = Bases.architecture(baseId);
    if (!architecture.engines().containsKey(engine)) {
      return null; // building it fails with the message naming the engines that run it
    }
    int size = Bases.inputSize(baseId);
    Preprocessing preprocessing = architecture.preprocessing(size);
    return new BaseInfo(baseId, preprocessing.id(), architecture.featureSize(size, Bases.tailBlocks(baseId)), preprocessing.size());
  }

  /** Builds the base once (pooled, so a local-mode task reuses it) and asks it. */
  static BaseInfo built(String baseId, String engine) {
    ImageBase base = BasePool.borrow(baseId, engine, null);
    try {
      return new BaseInfo(baseId, base.preprocessingId(), base.featureSize(), base.inputSize());
    } finally {
      BasePool.giveBack(base);
    }
  }
}
