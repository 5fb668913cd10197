package io.bottleneck.features;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * Keras Applications MobileNetV2, alpha 1.0, 224x224, ImageNet weights (TF-slim's checkpoint),
 * without the top, followed by global average pooling: 1,280 features per image. TensorFlow
 * engine only (no DL4J graph: the TF graph is the implementation, checked against ONNX
 * Runtime's run of the same network by MobileNetV2Test).
 *
 * <p>Mirrors {@code keras.applications.MobileNetV2(alpha=1.0, include_top=False)} built for a
 * fixed input side: Conv1 3x3/2 (32), then 17 inverted residual blocks (1x1 expansion x6 except
 * in the first, 3x3 depthwise, linear 1x1 projection; the input added back when the stride is
 * 1 and the channels do not change), then Conv_1 1x1 (1280), each convolution bias-free with
 * BatchNormalization (eps 1e-3, folded into it as in {@link TfMobileNetBase}) and ReLU6 except
 * after the projections.
 *
 * <p>Keras pads each stride-2 3x3 layer with {@code correct_pad} (0 before and 1 after on an
 * even side, 1 and 1 on an odd side) and runs it 'valid'. That is exactly TF's SAME split for a
 * 3x3 kernel at stride 2 on either parity (total padding 1 for an even side, 2 for an odd one,
 * the extra pixel after), so every convolution here is SAME (checked: explicit correct_pad +
 * VALID gives identical features at sides 96 to 512, odd and even). A Keras model built without
 * an input size cannot see the side and pads (0, 1) on odd sides too, so it differs there; the
 * model built for that size is the reference.
 */
final class TfMobileNetV2Base extends TfGraphBase {

  static final String ID = "mobilenet_v2_1.0";
  /** Default input side (an id {@code ID@<size>} sets another, see {@link Bases#inputSize}). */
  static final int INPUT_SIZE = 224;
  static final int FEATURES = 1280;
  /** Parameter count of the weights file; checked on load. */
  static final long PARAMS = 2_257_984L;

  /** Blocks 1..16: output channels and stride (the expansion is 6 in each). */
  private static final int[][] BLOCKS = {
      {24, 2}, {24, 1},
      {32, 2}, {32, 1}, {32, 1},
      {64, 2}, {64, 1}, {64, 1}, {64, 1},
      {96, 1}, {96, 1}, {96, 1},
      {160, 2}, {160, 1}, {160, 1},
      {320, 1}};
  private static final int EXPANSION = 6;

  private TfMobileNetV2Base(KerasWeights weights, int inputSize) {
    super(Bases.idWithSize(ID, inputSize), Preprocessing.plusMinusOne(inputSize), FEATURES,
        (tf, input) -> build(tf, input, weights));
  }

  /**
   * {@link Bases.KerasBuilder}: at {@code inputSize}; the whole network only, for now. Fails naming
   * the base if any tensor or the parameter count does not match the architecture.
   */
  static TfMobileNetV2Base build(KerasWeights weights, int inputSize, int tailBlocks) {
    checkTail(tailBlocks);
    try {
      return new TfMobileNetV2Base(weights, inputSize);
    } catch (IllegalStateException e) {
      throw new IllegalStateException("Weights do not fit base " + ID + ": " + e.getMessage(), e);
    }
  }

  /** Fails for any tail: fine-tuning MobileNetV2's last blocks is not supported yet. */
  static void checkTail(int tailBlocks) {
    if (tailBlocks != 0) {
      throw new IllegalArgumentException("Base " + ID + " cannot leave out its last blocks yet ("
          + Bases.TAIL + tailBlocks + "): fine-tuning supports " + MobileNetV1Base.ID + " and "
          + SqueezeNetBase.ID);
    }
  }

  private static Operand<TFloat32> build(Ops tf, Operand<TFloat32> input, KerasWeights w) {
    Operand<TFloat32> x = conv(tf, w, "Conv1", "bn_Conv1", input, 3, 3, 32, 2, true);
    // expanded_conv: block 0, without expansion and without a residual (32 -> 16 channels)
    x = depthwise(tf, w, "expanded_conv_depthwise", x, 32, 1);
    x = conv(tf, w, "expanded_conv_project", "expanded_conv_project_BN", x, 1, 32, 16, 1, false);
    int channels = 16;
    for (int b = 1; b <= BLOCKS.length; b++) {
      int out = BLOCKS[b - 1][0];
      int stride = BLOCKS[b - 1][1];
      String p = "block_" + b + "_";
      int expanded = EXPANSION * channels;
      Operand<TFloat32> y = conv(tf, w, p + "expand", p + "expand_BN", x, 1, channels, expanded, 1, true);
      y = depthwise(tf, w, p + "depthwise", y, expanded, stride);
      y = conv(tf, w, p + "project", p + "project_BN", y, 1, expanded, out, 1, false);
      x = stride == 1 && out == channels ? tf.math.add(x, y) : y;
      channels = out;
    }
    x = conv(tf, w, "Conv_1", "Conv_1_bn", x, 1, channels, FEATURES, 1, true);
    // checked before the session opens: a wrong file never yields a usable base
    w.verifyAllTaken(PARAMS);
    return globalAveragePool(tf, x);
  }

  /** Conv2D (no bias, SAME) + folded BatchNorm {@code bn}, then ReLU6 if {@code relu6}. */
  private static Operand<TFloat32> conv(Ops tf, KerasWeights w, String name, String bn,
      Operand<TFloat32> x, int k, int in, int out, int stride, boolean relu6) {
    KerasWeights.Conv conv = w.takeConv(name);
    if (conv.bias() != null) {
      throw new IllegalStateException("Unexpected bias for convolution " + name);
    }
    checkShape(name + " kernel", conv.kernel(), k, k, in, out);
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(conv.kernel()), out, w.takeBatchNorm(bn), bn);
    Operand<TFloat32> y = tf.nn.biasAdd(tf.nn.conv2d(x, constant(tf, f.kernel(), k, k, in, out),
        strides(stride), "SAME"), constant(tf, f.bias(), out));
    return relu6 ? tf.nn.relu6(y) : y;
  }

  /** DepthwiseConv2D 3x3 (multiplier 1, SAME) + folded {@code <name>_BN} + ReLU6. */
  private static Operand<TFloat32> depthwise(Ops tf, KerasWeights w, String name,
      Operand<TFloat32> x, int channels, int stride) {
    INDArray kernel = w.takeDepthwise(name);
    checkShape(name + " kernel", kernel, 3, 3, channels, 1);
    String bn = name + "_BN";
    // [3,3,C,1]: the output channel of a value is its index modulo C
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(kernel), channels, w.takeBatchNorm(bn), bn);
    Operand<TFloat32> y = tf.nn.depthwiseConv2dNative(x,
        constant(tf, f.kernel(), 3, 3, channels, 1), strides(stride), "SAME");
    return tf.nn.relu6(tf.nn.biasAdd(y, constant(tf, f.bias(), channels)));
  }
}
