package io.bottleneck.job;

import java.util.Map;
import picocli.CommandLine.Option;

/** How evaluate, predict and stream score images ({@code @Mixin}): the bundles, test-time augmentation, the cache. */
final class ScoringOptions {
  @Option(names = "--model", paramLabel = "DIR[,DIR...]", description = "Model bundle, or several separated by commas to average their probabilities (key: model).")
  String model;

  @Option(names = "--tta", paramLabel = "none|flip", description = "Test-time augmentation (key: tta).")
  String tta;

  @Option(names = "--cache", paramLabel = "URI", description = "Feature cache root (key: featurize.cache).")
  String cache;

  /** The options as configuration keys, as {@link JobCommand#options} puts them. */
  void options(Map<String, Object> keys) {
    keys.put("model", model);
    keys.put("featurize.cache", cache);
    keys.put("tta", tta);
  }
}
