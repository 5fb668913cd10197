package io.bottleneck.nets;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A bias-free convolution followed by inference-mode BatchNormalization, folded into one
 * convolution with bias: {@code k' = k * gamma / sqrt(var + eps)} per output channel and bias
 * {@code beta - mean * gamma / sqrt(var + eps)}, computed in double. Used by the TensorFlow
 * graph of MobileNet and by the trainable tail of a fine-tuned MobileNet, so both hold the
 * same numbers.
 *
 * @param kernel the folded kernel, in the input kernel's layout
 * @param bias one value per output channel
 */
public record FoldedBatchNorm(float[] kernel, float[] bias) {

  /** MobileNet's (Keras') BatchNormalization epsilon. */
  static final double EPS = 1e-3;

  /**
   * Folds {@code bn} (gamma, beta, mean, var) into a kernel whose last (fastest-varying)
   * dimension is the output channel, as in HWIO and in a multiplier-1 depthwise kernel.
   */
  public static FoldedBatchNorm fold(float[] kernel, int channels, Map<String, INDArray> bn, String name) {
    float[] gamma = KerasWeights.values(bn.get("gamma"));
    float[] beta = KerasWeights.values(bn.get("beta"));
    float[] mean = KerasWeights.values(bn.get("mean"));
    float[] var = KerasWeights.values(bn.get("var"));
    for (float[] v : new float[][] {gamma, beta, mean, var}) {
      if (v.length != channels) {
        throw new IllegalStateException("Shape mismatch for " + name + ": " + v.length
            + " values, expected " + channels);
      }
    }
    double[] scale = new double[channels];
    float[] bias = new float[channels];
    for (int c = 0; c < channels; c++) {
      scale[c] = gamma[c] / Math.sqrt((double) var[c] + EPS);
      bias[c] = (float) (beta[c] - mean[c] * scale[c]);
    }
    float[] folded = new float[kernel.length];
    for (int i = 0; i < kernel.length; i++) {
      folded[i] = (float) (kernel[i] * scale[i % channels]);
    }
    return new FoldedBatchNorm(folded, bias);
  }
}
