package io.bottleneck.nets;

import io.bottleneck.nets.BaseDeclaration.Pooling;
import java.util.Arrays;

/**
 * Turns a declared base's output tensor into one feature vector per image, the same on every
 * engine: a {@code [N, features]} tensor as it is (pooling none), a 4-D map pooled globally
 * (avg or max) in the declared layout.
 */
public final class FeatureMaps {

  private FeatureMaps() {}

  /**
   * The output of {@code n} images as {@code [n, features]}, flattened.
   *
   * @param values the output tensor's values, flattened in its shape
   * @param dims the output tensor's shape
   * @param channelsLast whether a 4-D map is NHWC (else NCHW)
   * @param what names the output in errors, e.g. {@code "Output features of base x"}
   * @throws IllegalStateException when {@code pooling} does not fit the rank, or the rank is
   *     neither 2 nor 4
   */
  public static float[] toFeatures(float[] values, long[] dims, boolean channelsLast, Pooling pooling,
      String what) {
    if (dims.length == 2) {
      if (pooling != Pooling.NONE) {
        throw new IllegalStateException(what + " is 2-D " + Arrays.toString(dims)
            + ": it needs pooling none");
      }
      return values;
    }
    if (dims.length == 4) {
      if (pooling == Pooling.NONE) {
        throw new IllegalStateException(what + " is 4-D " + Arrays.toString(dims)
            + ": it needs pooling avg or max");
      }
      return pool(values, dims, channelsLast, pooling);
    }
    throw new IllegalStateException(what + " has shape " + Arrays.toString(dims)
        + "; a feature tensor is [N, features] or a 4-D map");
  }

  /** Global average or max pooling of a 4-D map in the given layout, in double: {@code [n, channels]}. */
  public static float[] pool(float[] map, long[] dims, boolean channelsLast, Pooling pooling) {
    if (dims.length != 4 || pooling == Pooling.NONE) {
      throw new IllegalArgumentException("pooling " + pooling.key() + " of shape " + Arrays.toString(dims));
    }
    int n = (int) dims[0];
    int channels = (int) (channelsLast ? dims[3] : dims[1]);
    int spatial = (int) (channelsLast ? dims[1] * dims[2] : dims[2] * dims[3]);
    boolean max = pooling == Pooling.MAX;
    float[] out = new float[n * channels];
    for (int i = 0; i < n; i++) {
      int base = i * channels * spatial;
      for (int c = 0; c < channels; c++) {
        double acc = max ? Double.NEGATIVE_INFINITY : 0;
        for (int p = 0; p < spatial; p++) {
          float v = channelsLast ? map[base + p * channels + c] : map[base + c * spatial + p];
          acc = max ? Math.max(acc, v) : acc + v;
        }
        out[i * channels + c] = (float) (max ? acc : acc / spatial);
      }
    }
    return out;
  }
}
