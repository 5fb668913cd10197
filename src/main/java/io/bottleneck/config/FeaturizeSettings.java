package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import io.bottleneck.nets.Bases;
import java.util.Set;

/**
 * The featurize.* keys, read and checked: the engine must run every built-in base of the run's
 * base (a declared base runs on its format's engine), the cache must be set.
 *
 * @param partitions 0: the stage decides
 */
record FeaturizeSettings(String engine, int batchSize, String cache, int partitions) {
  /**
   * @param base the run's base (one, or several joined by '+')
   * @param declared the names of the bases declared in bottleneck.bases
   */
  static FeaturizeSettings read(ConfigValues v, String base, Set<String> declared) {
    String engine = v.string("featurize.engine");
    if (!Bases.engines().contains(engine)) {
      throw invalid("featurize.engine", engine, "one of " + String.join(", ", Bases.engines()));
    }
    for (String baseId : Bases.parseSpec(base, declared)) {
      // a declared base runs on its format's engine, whatever featurize.engine says
      if (!declared.contains(baseId) && !Bases.engines(baseId).contains(engine)) {
        throw invalid("featurize.engine", engine, "an engine that runs base " + baseId + ": "
            + String.join(", ", Bases.engines(baseId)));
      }
    }
    int batchSize = v.positive("featurize.batch-size");
    String cache = v.string("featurize.cache");
    if (cache.isEmpty()) {
      throw invalid("featurize.cache", "\"\"", "a directory URI or path");
    }
    int partitions = v.atLeast("featurize.partitions", 0);
    return new FeaturizeSettings(engine, batchSize, cache, partitions);
  }
}
