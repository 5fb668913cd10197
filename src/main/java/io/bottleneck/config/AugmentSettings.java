package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import io.bottleneck.features.Augmentation;

/**
 * The augment.* keys as the featurize stage's {@link Augmentation}, and tta (test-time
 * augmentation at evaluation and prediction), read and checked.
 *
 * @param tta none or flip
 */
record AugmentSettings(Augmentation augmentation, String tta) {
  /** @param seed the split's seed, which augmentation draws its jitter from */
  static AugmentSettings read(ConfigValues v, long seed) {
    int copies = v.atLeast("augment.copies", 0);
    double rotation = v.number("augment.rotation");
    if (!(rotation >= 0 && rotation <= 180)) {
      throw invalid("augment.rotation", rotation, "in [0, 180] degrees");
    }
    double zoom = v.fraction("augment.zoom");
    double widthShift = v.fraction("augment.width-shift");
    double heightShift = v.fraction("augment.height-shift");
    Augmentation augmentation =
        new Augmentation(copies, rotation, zoom, widthShift, heightShift, v.bool("augment.horizontal-flip"), seed);
    String tta = v.string("tta");
    if (!tta.equals("none") && !tta.equals("flip")) {
      throw invalid("tta", tta, "none or flip");
    }
    return new AugmentSettings(augmentation, tta);
  }
}
