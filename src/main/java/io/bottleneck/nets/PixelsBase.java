package io.bottleneck.nets;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;

/**
 * No network: the "features" are the image's pixels, resized to {@code size x size}, RGB scaled
 * to [-1, 1], flattened in NCHW order. What a CNN trained from scratch takes; going through the
 * featurize stage gives it the cache, the augmented views and test-time augmentation like any
 * base. Base id {@code pixels<size>}, e.g. {@code pixels64}; the same on both engines.
 */
final class PixelsBase implements ImageBase {
  static final String PREFIX = "pixels";
  static final int MIN_SIZE = 16;
  static final int MAX_SIZE = 256;

  private final int size;
  private final String engine;
  private final Preprocessing preprocessing;

  PixelsBase(int size, String engine) {
    if (size < MIN_SIZE || size > MAX_SIZE) {
      throw new IllegalArgumentException(
          "Pixel input size must be in [" + MIN_SIZE + ", " + MAX_SIZE + "] but was " + size);
    }
    this.size = size;
    this.engine = Objects.requireNonNull(engine, "engine");
    this.preprocessing = Preprocessing.plusMinusOne(size);
  }

  /** The size in a {@code pixels<size>} id, or -1 when the id is not of that form. */
  static int sizeOf(String id) {
    if (!id.startsWith(PREFIX) || !id.substring(PREFIX.length()).matches("[1-9][0-9]{1,2}")) {
      return -1;
    }
    return Integer.parseInt(id.substring(PREFIX.length()));
  }

  @Override
  public String id() {
    return PREFIX + size;
  }

  @Override
  public int inputSize() {
    return size;
  }

  @Override
  public int featureSize() {
    return 3 * size * size;
  }

  @Override
  public String preprocessingId() {
    return preprocessing.id();
  }

  @Override
  public String engine() {
    return engine;
  }

  @Override
  public float[][] featurize(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    return forward(preprocessing.toNchw(images), images.size());
  }

  @Override
  public void readInput(byte[] file, String name, float[] batch, int index)
      throws UndecodableImageException {
    preprocessing.fill(Images.decode(file, name), batch, Math.multiplyExact(index, featureSize()));
  }

  /** The inputs themselves, one row per image. */
  @Override
  public float[][] forward(float[] batch, int n) {
    int length = featureSize();
    float[][] out = new float[n][length];
    for (int i = 0; i < n; i++) {
      System.arraycopy(batch, i * length, out[i], 0, length);
    }
    return out;
  }
}
