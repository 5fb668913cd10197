package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

/**
 * The split.* keys, read and checked: the held-out share and the split's seed (also the seed of
 * augmentation, and of training unless train.seed is set).
 *
 * @param testSize a fraction in (0, 1), or a whole number of rows >= 1
 */
record SplitSettings(double testSize, long seed) {
  static SplitSettings read(ConfigValues v) {
    double testSize = v.number("split.test-size");
    if (!(testSize > 0 && testSize < 1) && !(testSize >= 1 && testSize == Math.rint(testSize))) {
      throw invalid("split.test-size", testSize, "a fraction in (0, 1) or a whole number >= 1");
    }
    return new SplitSettings(testSize, v.longValue("split.seed"));
  }
}
