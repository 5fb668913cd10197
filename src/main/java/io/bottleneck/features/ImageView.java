package io.bottleneck.features;

import io.bottleneck.io.ExifOrientation;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.ImageBase;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Which view of an image the base sees: the image itself, its mirror image (for test-time
 * augmentation), or augmented copy {@code k} of an {@link Augmentation}. A view is applied to the
 * network input after resize and preprocessing, as Keras' augmentation layers are applied to
 * the resized input; the per-channel affine preprocessing commutes with the bilinear sampling,
 * so this equals transforming the resized pixels first.
 *
 * <p>Each view has its own feature-cache key ({@link #cacheSuffix()} appended to the
 * preprocessing id): a view's features are cached and reused like the original's.
 *
 * <p>Immutable and thread-safe; {@link #apply} allocates its scratch copy per call.
 */
public final class ImageView implements Serializable {
  private static final long serialVersionUID = 1L;

  private enum Kind { ORIGINAL, FLIP, AUGMENTED }

  /** The image as it is. */
  public static final ImageView ORIGINAL = new ImageView(Kind.ORIGINAL, null, 0);
  /** The image mirrored left to right. */
  public static final ImageView FLIP = new ImageView(Kind.FLIP, null, 0);

  private final Kind kind;
  private final Augmentation augmentation;
  private final int copy;

  private ImageView(Kind kind, Augmentation augmentation, int copy) {
    this.kind = kind;
    this.augmentation = augmentation;
    this.copy = copy;
  }

  /** Augmented copy {@code copy} (1-based, at most {@code augmentation.copies()}). */
  public static ImageView augmented(Augmentation augmentation, int copy) {
    Objects.requireNonNull(augmentation, "augmentation");
    if (copy < 1 || copy > augmentation.copies()) {
      throw new IllegalArgumentException(
          "copy must be in [1, " + augmentation.copies() + "] but was " + copy);
    }
    return new ImageView(Kind.AUGMENTED, augmentation, copy);
  }

  public boolean isOriginal() {
    return kind == Kind.ORIGINAL;
  }

  /**
   * Appended to the preprocessing id in feature-cache keys: empty for the original (so its
   * cache entries are those written before views existed), {@code +flip}, or
   * {@code +aug-<ranges>-s<seed>-k<copy>}.
   */
  public String cacheSuffix() {
    return switch (kind) {
      case ORIGINAL -> "";
      case FLIP -> "+flip";
      case AUGMENTED -> "+" + augmentation.id() + "-k" + copy;
    };
  }

  @Override
  public String toString() {
    return kind == Kind.ORIGINAL ? "original" : cacheSuffix().substring(1);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ImageView v && v.cacheSuffix().equals(cacheSuffix());
  }

  @Override
  public int hashCode() {
    return cacheSuffix().hashCode();
  }

  /** The geometric transform of one image in this view; see {@link #transformFor(String)}. */
  record Transform(boolean flip, double rotationRadians, double scale, double shiftX, double shiftY) {
    static final Transform IDENTITY = new Transform(false, 0, 1, 0, 0);
  }

  /**
   * The transform this view applies to the image whose content hash is {@code contentHash}:
   * drawn from a generator seeded by (augmentation seed, copy, hash) only, so it does not
   * depend on where or when the image is processed.
   */
  Transform transformFor(String contentHash) {
    switch (kind) {
      case ORIGINAL:
        return Transform.IDENTITY;
      case FLIP:
        return new Transform(true, 0, 1, 0, 0);
      default:
        break;
    }
    Augmentation a = augmentation;
    SplittableRandom random = new SplittableRandom(mix(a.seed(), copy, contentHash));
    boolean flip = a.horizontalFlip() && random.nextBoolean();
    double angle = Math.toRadians(uniform(random, a.rotationDegrees()));
    double scale = 1 + uniform(random, a.zoom());
    double shiftX = uniform(random, a.widthShift());
    double shiftY = uniform(random, a.heightShift());
    return new Transform(flip, angle, scale, shiftX, shiftY);
  }

  /** Uniform in [-range, range]; draws even when the range is 0, so draws stay aligned. */
  private static double uniform(SplittableRandom random, double range) {
    double u = random.nextDouble();
    return range == 0 ? 0 : (2 * u - 1) * range;
  }

  private static long mix(long seed, int copy, String contentHash) {
    // FNV-1a over the hash's bytes: stable across JVMs, unlike String.hashCode's 32 bits
    long h = 0xcbf29ce484222325L;
    for (byte b : contentHash.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xFF;
      h *= 0x100000001b3L;
    }
    return h ^ (seed * 0x9E3779B97F4A7C15L) ^ ((long) copy * 0xC2B2AE3D27D4EB4FL);
  }

  /**
   * As {@link ImageBase#featurizeFiles(List, List)} on this view of each file: the view is
   * applied to each network input between {@link ImageBase#readInput} and {@link
   * ImageBase#forward}.
   *
   * @param contentHashes the files' content hashes, which seed an augmented view's transform
   * @param exifOrientation turn each JPEG upright by its Exif orientation first: on the network
   *     input, like the view, so that engines keep their own decoders (see {@link
   *     ExifOrientation#applyToInput})
   */
  float[][] featurizeFiles(
      ImageBase base, List<byte[]> files, List<String> names, List<String> contentHashes, boolean exifOrientation)
      throws UndecodableImageException {
    int[] orientations = new int[files.size()];
    boolean oriented = false;
    for (int i = 0; i < files.size(); i++) {
      orientations[i] = exifOrientation ? ExifOrientation.of(files.get(i)) : ExifOrientation.UPRIGHT;
      oriented |= orientations[i] != ExifOrientation.UPRIGHT;
    }
    if (isOriginal() && !oriented) {
      return base.featurizeFiles(files, names);
    }
    if (names.size() != files.size() || contentHashes.size() != files.size()) {
      throw new IllegalArgumentException(files.size() + " files but " + names.size() + " names and "
          + contentHashes.size() + " content hashes");
    }
    if (files.isEmpty()) {
      return new float[0][];
    }
    int size = base.inputSize();
    float[] batch = new float[Math.multiplyExact(files.size(), 3 * size * size)];
    for (int i = 0; i < files.size(); i++) {
      base.readInput(files.get(i), names.get(i), batch, i);
      ExifOrientation.applyToInput(batch, i, size, base.channelsLast(), orientations[i]);
      if (!isOriginal()) {
        apply(batch, i, size, base.channelsLast(), contentHashes.get(i));
      }
    }
    return base.forward(batch, files.size());
  }

  /**
   * Transforms image {@code index} of a batch of network inputs in place.
   *
   * @param size the input side in pixels
   * @param channelsLast NHWC (TensorFlow) when true, NCHW (DL4J) when false
   */
  void apply(float[] batch, int index, int size, boolean channelsLast, String contentHash) {
    if (kind == Kind.ORIGINAL) {
      return;
    }
    transform(batch, index, size, channelsLast, transformFor(contentHash));
  }

  /** Applies {@code t} to image {@code index} of a batch in place (see {@link #apply}). */
  static void transform(float[] batch, int index, int size, boolean channelsLast, Transform t) {
    int perImage = 3 * size * size;
    int at = Math.multiplyExact(index, perImage);
    float[] source = new float[perImage];
    System.arraycopy(batch, at, source, 0, perImage);
    int channelStride = channelsLast ? 1 : size * size;
    int pixelStride = channelsLast ? 3 : 1;
    if (t.flip() && t.rotationRadians() == 0 && t.scale() == 1 && t.shiftX() == 0 && t.shiftY() == 0) {
      // exact mirror, no resampling
      for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
          int from = (y * size + (size - 1 - x)) * pixelStride;
          int to = at + (y * size + x) * pixelStride;
          for (int c = 0; c < 3; c++) {
            batch[to + c * channelStride] = source[from + c * channelStride];
          }
        }
      }
      return;
    }
    resample(source, batch, at, size, channelStride, pixelStride, t);
  }

  /**
   * Inverse mapping: output pixel centre p goes back through the shift, rotation, zoom and
   * mirror to a source position, sampled bilinearly; positions outside the image take the
   * nearest edge pixel.
   */
  private static void resample(
      float[] source, float[] dst, int at, int size, int channelStride, int pixelStride, Transform t) {
    double centre = size / 2.0;
    double cos = Math.cos(t.rotationRadians()) / t.scale();
    double sin = Math.sin(t.rotationRadians()) / t.scale();
    double shiftX = t.shiftX() * size;
    double shiftY = t.shiftY() * size;
    for (int y = 0; y < size; y++) {
      for (int x = 0; x < size; x++) {
        double px = x + 0.5;
        if (t.flip()) {
          px = size - px;
        }
        double qx = px - centre - shiftX;
        double qy = y + 0.5 - centre - shiftY;
        // source coordinates in the pixel-index convention (centres at integers)
        double sx = centre + cos * qx - sin * qy - 0.5;
        double sy = centre + sin * qx + cos * qy - 0.5;
        int x0 = (int) Math.floor(sx);
        int y0 = (int) Math.floor(sy);
        float fx = (float) (sx - x0);
        float fy = (float) (sy - y0);
        int xa = clamp(x0, size);
        int xb = clamp(x0 + 1, size);
        int ya = clamp(y0, size);
        int yb = clamp(y0 + 1, size);
        int p00 = (ya * size + xa) * pixelStride;
        int p01 = (ya * size + xb) * pixelStride;
        int p10 = (yb * size + xa) * pixelStride;
        int p11 = (yb * size + xb) * pixelStride;
        int to = at + (y * size + x) * pixelStride;
        for (int c = 0, o = 0; c < 3; c++, o += channelStride) {
          float top = source[p00 + o] + (source[p01 + o] - source[p00 + o]) * fx;
          float bottom = source[p10 + o] + (source[p11 + o] - source[p10 + o]) * fx;
          dst[to + o] = top + (bottom - top) * fy;
        }
      }
    }
  }

  private static int clamp(int i, int size) {
    return i < 0 ? 0 : Math.min(i, size - 1);
  }
}
