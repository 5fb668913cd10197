package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

/**
 * The quality.* keys, read and checked: the data checks between ingest and training.
 *
 * @param dedupe drop duplicate images (content hash) before splitting
 * @param maxImbalanceRatio largest allowed ratio of the biggest class to the smallest, >= 1
 * @param nearDuplicates compare held-out and training features for near-duplicates
 * @param nearDuplicateSimilarity cosine similarity at or above which two files are near-duplicates
 */
record QualitySettings(
    boolean dedupe, double maxImbalanceRatio, boolean nearDuplicates, double nearDuplicateSimilarity) {
  static QualitySettings read(ConfigValues v) {
    boolean dedupe = v.bool("quality.dedupe");
    double maxImbalanceRatio = v.number("quality.max-imbalance-ratio");
    if (!(maxImbalanceRatio >= 1.0)) {
      throw invalid("quality.max-imbalance-ratio", maxImbalanceRatio, "a ratio >= 1");
    }
    boolean nearDuplicates = v.bool("quality.near-duplicates.enabled");
    double similarity = v.number("quality.near-duplicates.min-similarity");
    if (!(similarity > 0 && similarity <= 1)) {
      throw invalid("quality.near-duplicates.min-similarity", similarity, "a cosine similarity in (0, 1]");
    }
    return new QualitySettings(dedupe, maxImbalanceRatio, nearDuplicates, similarity);
  }
}
