package io.bottleneck.nets;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A base over a model file run as it is (a declared ONNX or SavedModel network, or the ONNX graph
 * the project writes for a built-in base):
 * images decoded and preprocessed in Java in the declared layout, one forward pass per batch
 * whose flattened output is cut into one feature row per image. Subclasses run the pass.
 */
public abstract class LoadedModelBase extends AbstractImageBase {

  private final boolean channelsLast;

  protected LoadedModelBase(String id, Preprocessing preprocessing, boolean channelsLast) {
    super(Objects.requireNonNull(id, "id"), preprocessing);
    this.channelsLast = channelsLast;
  }

  /**
   * One forward pass over {@code n} preprocessed images: {@code n * featureSize()} values, row by
   * row (a 4-D output already pooled).
   */
  protected abstract float[] run(float[] batch, int n);

  /**
   * One forward pass of a blank image: the feature length (dynamic output shapes are common).
   *
   * @throws IllegalStateException when the pass fails (the runtime's message in it)
   */
  public int probeFeatureSize() {
    int s = preprocessing().size();
    float[] out = run(new float[3 * s * s], 1);
    if (out.length == 0) {
      throw new IllegalStateException("Base " + id() + " gave an empty feature vector");
    }
    return out.length;
  }

  @Override
  public boolean channelsLast() {
    return channelsLast;
  }

  @Override
  public float[][] featurize(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    if (images.isEmpty()) {
      return new float[0][];
    }
    float[] batch = channelsLast ? preprocessing().toNhwc(images) : preprocessing().toNchw(images);
    return forward(batch, images.size());
  }

  @Override
  public void readInput(byte[] file, String name, float[] batch, int index)
      throws UndecodableImageException {
    int s = preprocessing().size();
    int at = Math.multiplyExact(index, 3 * s * s);
    BufferedImage image = Images.decode(file, name);
    if (channelsLast) {
      preprocessing().fillNhwc(image, batch, at);
    } else {
      preprocessing().fill(image, batch, at);
    }
  }

  @Override
  public float[][] forward(float[] batch, int n) {
    float[] out = run(batch, n);
    int size = featureSize();
    if (out.length != (long) n * size) {
      throw new IllegalStateException("Base " + id() + " gave " + out.length + " values for " + n
          + " images, expected " + size + " each");
    }
    float[][] rows = new float[n][];
    for (int i = 0; i < n; i++) {
      rows[i] = Arrays.copyOfRange(out, i * size, (i + 1) * size);
    }
    return rows;
  }
}
