package io.bottleneck.nets.tf;

import io.bottleneck.nets.FoldedBatchNorm;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.MobileNetV1;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
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
public final class TfMobileNetBase extends TfGraphBase {

  private static final MobileNetV1 ARCHITECTURE = new MobileNetV1();

  private TfMobileNetBase(KerasWeights weights, int inputSize, int tailBlocks) {
    super(ARCHITECTURE.idWithTail(inputSize, tailBlocks), ARCHITECTURE.preprocessing(inputSize),
        ARCHITECTURE.featureSize(inputSize, tailBlocks),
        (tf, input) -> build(tf, input, weights, ARCHITECTURE.featureSize(inputSize, tailBlocks), tailBlocks));
  }

  /** Builds the graph from the weights at the default size, verifying that every tensor is used exactly. */
  static TfMobileNetBase fromWeights(KerasWeights weights) {
    return build(weights, MobileNetV1.INPUT_SIZE, 0);
  }

  /**
   * {@link io.bottleneck.nets.Engine.KerasBuilder}: at {@code inputSize}; with {@code tailBlocks} > 0 the frozen part of
   * a fine-tuned MobileNet, whose output is the activation at the input of the last
   * {@code tailBlocks} blocks, flattened in NCHW order (see {@link MobileNetV1#idWithTail}).
   */
  public static TfMobileNetBase build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      ARCHITECTURE.checkTail(tailBlocks);
    }
    return new TfMobileNetBase(weights, inputSize, tailBlocks);
  }

  private static Operand<TFloat32> build(Ops tf, Operand<TFloat32> input, KerasWeights w, int featureSize, int tailBlocks) {
    Operand<TFloat32> x = conv(tf, w, "conv1", input, 3, 3, MobileNetV1.channels(0), 2);
    Operand<TFloat32> cut = null;
    for (int i = 1; i <= 13; i++) {
      if (i == 14 - tailBlocks) {
        cut = x;
      }
      x = depthwise(tf, w, "conv_dw_" + i, x, MobileNetV1.channels(i - 1), MobileNetV1.dwStride(i));
      x = conv(tf, w, "conv_pw_" + i, x, 1, MobileNetV1.channels(i - 1), MobileNetV1.channels(i), 1);
    }
    // checked before the session opens: a wrong file never yields a usable base. The blocks
    // after a cut stay in the graph (a session only runs what the output needs).
    w.verifyAllTaken(MobileNetV1.PARAMS);
    if (cut == null) {
      return globalAveragePool(tf, x);
    }
    // NHWC -> NCHW, flattened: the layout DL4J's convolutional-flat input expects
    Operand<TFloat32> nchw = tf.linalg.transpose(cut, tf.constant(new int[] {0, 3, 1, 2}));
    return tf.reshape(nchw, tf.constant(new int[] {-1, featureSize}));
  }

  /** Conv2D (no bias, SAME) + folded {@code <name>_bn} + ReLU6. */
  private static Operand<TFloat32> conv(Ops tf, KerasWeights w, String name, Operand<TFloat32> x,
      int k, int in, int out, int stride) {
    KerasWeights.Conv conv = w.takeConv(name);
    if (conv.bias() != null) {
      throw new IllegalStateException("Unexpected bias for convolution " + name);
    }
    checkShape(name + " kernel", conv.kernel(), k, k, in, out);
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(conv.kernel()), out, w.takeBatchNorm(name + "_bn"),
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
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(kernel), channels, w.takeBatchNorm(name + "_bn"),
        name + "_bn");
    Operand<TFloat32> y = tf.nn.depthwiseConv2dNative(x,
        constant(tf, f.kernel(), 3, 3, channels, 1), strides(stride), "SAME");
    return tf.nn.relu6(tf.nn.biasAdd(y, constant(tf, f.bias(), channels)));
  }
}
