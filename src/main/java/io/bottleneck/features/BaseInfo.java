package io.bottleneck.features;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What the driver needs to know of a base (cache key, vector length) without running it. */
record BaseInfo(String id, String preprocessingId, int featureSize, int inputSize) {
  private static final Map<String, BaseInfo> KNOWN = new ConcurrentHashMap<>();

  static BaseInfo of(String baseId, String engine) {
    return KNOWN.computeIfAbsent(
        Bases.poolKey(baseId, Bases.engineOf(baseId, engine)),
        key -> {
          ImageBase base = BasePool.borrow(baseId, engine, null);
          try {
            return new BaseInfo(baseId, base.preprocessingId(), base.featureSize(), base.inputSize());
          } finally {
            BasePool.giveBack(base);
          }
        });
  }
}
