package io.bottleneck.features;

import java.io.Serializable;
import java.util.Locale;

/**
 * Random image augmentation in the manner of Keras' {@code ImageDataGenerator} (and the
 * {@code RandomFlip} / {@code RandomRotation} / {@code RandomZoom} / {@code RandomTranslation}
 * layers): each training image gets {@code copies} augmented views, each a random horizontal
 * flip, rotation, zoom and shift of the network input, filled at the borders with the nearest
 * edge pixel (Keras' default {@code fill_mode='nearest'}).
 *
 * <p>Unlike Keras, whose generator draws new transforms every epoch, the views are computed once
 * and cached like any features: view {@code k} of an image is the same on every run, executor
 * and partitioning, because its random parameters are drawn from a generator seeded by
 * (seed, k, the image's content hash) alone.
 *
 * @param copies augmented views per training image; 0 turns augmentation off
 * @param rotationDegrees rotation drawn uniformly from [-r, r] degrees (Keras
 *     {@code rotation_range})
 * @param zoom scale drawn uniformly from [1 - zoom, 1 + zoom], the same for both axes so the
 *     aspect ratio is kept (Keras {@code zoom_range} with one value draws the axes apart)
 * @param widthShift horizontal shift drawn uniformly from [-w, w] of the width (Keras
 *     {@code width_shift_range} as a fraction)
 * @param heightShift vertical shift, as widthShift
 * @param horizontalFlip whether half of the views (drawn at random) are mirrored
 * @param seed seed of every draw
 */
public record Augmentation(
    int copies,
    double rotationDegrees,
    double zoom,
    double widthShift,
    double heightShift,
    boolean horizontalFlip,
    long seed)
    implements Serializable {

  public Augmentation {
    if (copies < 0) {
      throw new IllegalArgumentException("copies must be >= 0 but was " + copies);
    }
    if (!(rotationDegrees >= 0 && rotationDegrees <= 180)) {
      throw new IllegalArgumentException("rotation must be in [0, 180] degrees but was " + rotationDegrees);
    }
    if (!(zoom >= 0 && zoom < 1)) {
      throw new IllegalArgumentException("zoom must be in [0, 1) but was " + zoom);
    }
    if (!(widthShift >= 0 && widthShift < 1)) {
      throw new IllegalArgumentException("width shift must be in [0, 1) but was " + widthShift);
    }
    if (!(heightShift >= 0 && heightShift < 1)) {
      throw new IllegalArgumentException("height shift must be in [0, 1) but was " + heightShift);
    }
  }

  public boolean enabled() {
    return copies > 0;
  }

  /**
   * The part of a feature-cache key that names these ranges and the seed (not the number of
   * copies: view k is the same whatever the count, so raising copies reuses views 1..k).
   */
  String id() {
    return String.format(
        Locale.ROOT,
        "aug-r%s-z%s-w%s-h%s-%s-s%d",
        number(rotationDegrees), number(zoom), number(widthShift), number(heightShift),
        horizontalFlip ? "flip" : "noflip", seed);
  }

  private static String number(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
