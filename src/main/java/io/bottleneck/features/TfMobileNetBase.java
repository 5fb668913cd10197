package io.bottleneck.features;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * {@link MobileNetV1Base} (alpha 0.25, 224, 256 features) on the TensorFlow engine: same
 * weights, same preprocessing, same features to within 1e-4.
 *
 * <p>NHWC. Keras' 'same' padding is TF's own SAME (for stride 2 on an even size: 0 before,
 * 1 after), so no explicit padding is needed. Each BatchNormalization (eps 1e-3) is folded
 * into the preceding bias-free convolution: {@code k' = k * gamma / sqrt(var + eps)} per
 * output channel and bias {@code beta - mean * gamma / sqrt(var + eps)}, computed in double.
 * That removes a pass over every activation, and matches DL4J's unfolded result to ~1e-5.
 */
final class TfMobileNetBase extends TfGraphBase {

  /** Output channels of conv1 and of the 13 pointwise convolutions, for alpha 0.25. */
  private static final int[] CHANNELS = {8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128,
      256, 256};
  /** Stride of the depthwise convolution of blocks 1..13 (index 0 unused). */
  private static final int[] DW_STRIDE = {0, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
  private static final double BN_EPS = 1e-3;

  private TfMobileNetBase(KerasWeights weights) {
    super(MobileNetV1Base.ID, Preprocessing.plusMinusOne(MobileNetV1Base.INPUT_SIZE),
        MobileNetV1Base.FEATURES, (tf, input) -> build(tf, input, weights));
  }

  /** Builds the graph from the weights, verifying that every tensor is used exactly. */
  static TfMobileNetBase fromWeights(KerasWeights weights) {
    return new TfMobileNetBase(weights);
  }

  private static Operand<TFloat32> build(Ops tf, Operand<TFloat32> input, KerasWeights w) {
    Operand<TFloat32> x = conv(tf, w, "conv1", input, 3, 3, CHANNELS[0], 2);
    for (int i = 1; i <= 13; i++) {
      x = depthwise(tf, w, "conv_dw_" + i, x, CHANNELS[i - 1], DW_STRIDE[i]);
      x = conv(tf, w, "conv_pw_" + i, x, 1, CHANNELS[i - 1], CHANNELS[i], 1);
    }
    // checked before the session opens: a wrong file never yields a usable base
    w.verifyAllTaken(MobileNetV1Base.PARAMS);
    return globalAveragePool(tf, x);
  }

  /** Conv2D (no bias, SAME) + folded {@code <name>_bn} + ReLU6. */
  private static Operand<TFloat32> conv(Ops tf, KerasWeights w, String name, Operand<TFloat32> x,
      int k, int in, int out, int stride) {
    KerasWeights.Conv conv = w.takeConv(name);
    if (conv.bias() != null) {
      throw new IllegalStateException("Unexpected bias for convolution " + name);
    }
    checkShape(name + " kernel", conv.kernel(), k, k, in, out);
    Folded f = fold(KerasWeights.values(conv.kernel()), out, w.takeBatchNorm(name + "_bn"),
        name + "_bn");
    Operand<TFloat32> y = tf.nn.conv2d(x, constant(tf, f.kernel(), k, k, in, out),
        strides(stride), "SAME");
    return tf.nn.relu6(tf.nn.biasAdd(y, constant(tf, f.bias(), out)));
  }

  /** DepthwiseConv2D 3x3 (multiplier 1, SAME) + folded {@code <name>_bn} + ReLU6. */
  private static Operand<TFloat32> depthwise(Ops tf, KerasWeights w, String name,
      Operand<TFloat32> x, int channels, int stride) {
    INDArray kernel = w.takeDepthwise(name);
    checkShape(name + " kernel", kernel, 3, 3, channels, 1);
    // [3,3,C,1]: the output channel of a value is its index modulo C
    Folded f = fold(KerasWeights.values(kernel), channels, w.takeBatchNorm(name + "_bn"),
        name + "_bn");
    Operand<TFloat32> y = tf.nn.depthwiseConv2dNative(x,
        constant(tf, f.kernel(), 3, 3, channels, 1), strides(stride), "SAME");
    return tf.nn.relu6(tf.nn.biasAdd(y, constant(tf, f.bias(), channels)));
  }

  private record Folded(float[] kernel, float[] bias) {}

  /**
   * Folds inference BatchNorm into a kernel whose last (fastest-varying) dimension is the
   * output channel, as in HWIO and in a multiplier-1 depthwise kernel.
   */
  private static Folded fold(float[] kernel, int channels, Map<String, INDArray> bn,
      String name) {
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
      scale[c] = gamma[c] / Math.sqrt((double) var[c] + BN_EPS);
      bias[c] = (float) (beta[c] - mean[c] * scale[c]);
    }
    float[] folded = new float[kernel.length];
    for (int i = 0; i < kernel.length; i++) {
      folded[i] = (float) (kernel[i] * scale[i % channels]);
    }
    return new Folded(folded, bias);
  }
}
