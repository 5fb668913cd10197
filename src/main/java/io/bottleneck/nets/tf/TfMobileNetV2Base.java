package io.bottleneck.nets.tf;

import io.bottleneck.nets.FoldedBatchNorm;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.dl4j.TunableTail;
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
 *
 * <p>{@code mobilenet_v2_1.0@tail1} is the frozen part of a fine-tuned MobileNetV2: its output is the
 * activation entering block_16 (block_15's output after its residual add; 160x7x7 at 224),
 * flattened in NCHW order, which {@link TunableTail} continues with block_16 and Conv_1. Only
 * one block can be left out: block_15 ends in a residual add, which a DL4J layer list (the
 * trainable tail) cannot express.
 */
public final class TfMobileNetV2Base extends TfGraphBase {

  private static final MobileNetV2 ARCHITECTURE = new MobileNetV2();

  private TfMobileNetV2Base(KerasWeights weights, int inputSize, int tailBlocks) {
    super(ARCHITECTURE.idWithTail(inputSize, tailBlocks), ARCHITECTURE.preprocessing(inputSize),
        ARCHITECTURE.featureSize(inputSize, tailBlocks),
        (tf, input) -> build(tf, input, weights, ARCHITECTURE.featureSize(inputSize, tailBlocks), tailBlocks));
  }

  /**
   * {@link io.bottleneck.nets.Engine.KerasBuilder}: at {@code inputSize}, without its last
   * {@code tailBlocks} blocks (0: whole; 1: up to the input of block_16). Fails naming the base
   * if any tensor or the parameter count does not match the architecture.
   */
  public static TfMobileNetV2Base build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      ARCHITECTURE.checkTail(tailBlocks);
    }
    try {
      return new TfMobileNetV2Base(weights, inputSize, tailBlocks);
    } catch (IllegalStateException e) {
      throw new IllegalStateException("Weights do not fit base " + MobileNetV2.ID + ": " + e.getMessage(), e);
    }
  }

  private static Operand<TFloat32> build(Ops tf, Operand<TFloat32> input, KerasWeights w, int featureSize,
      int tailBlocks) {
    Operand<TFloat32> x = conv(tf, w, "Conv1", "bn_Conv1", input, 3, 3, 32, 2, true);
    // expanded_conv: block 0, without expansion and without a residual (32 -> 16 channels)
    x = depthwise(tf, w, "expanded_conv_depthwise", x, 32, 1);
    x = conv(tf, w, "expanded_conv_project", "expanded_conv_project_BN", x, 1, 32, 16, 1, false);
    int channels = 16;
    Operand<TFloat32> cut = null;
    for (int b = 1; b <= MobileNetV2.blocks(); b++) {
      if (b == MobileNetV2.blocks() + 1 - tailBlocks) {
        cut = x;
      }
      int out = MobileNetV2.channels(b);
      int stride = MobileNetV2.stride(b);
      String p = "block_" + b + "_";
      int expanded = MobileNetV2.EXPANSION * channels;
      Operand<TFloat32> y = conv(tf, w, p + "expand", p + "expand_BN", x, 1, channels, expanded, 1, true);
      y = depthwise(tf, w, p + "depthwise", y, expanded, stride);
      y = conv(tf, w, p + "project", p + "project_BN", y, 1, expanded, out, 1, false);
      x = stride == 1 && out == channels ? tf.math.add(x, y) : y;
      channels = out;
    }
    x = conv(tf, w, "Conv_1", "Conv_1_bn", x, 1, channels, MobileNetV2.FEATURES, 1, true);
    // checked before the session opens: a wrong file never yields a usable base
    // the layers after a cut stay in the graph (a session only runs what the output needs)
    w.verifyAllTaken(MobileNetV2.PARAMS);
    if (cut == null) {
      return globalAveragePool(tf, x);
    }
    // NHWC -> NCHW, flattened: the layout DL4J's convolutional-flat input expects
    Operand<TFloat32> nchw = tf.linalg.transpose(cut, tf.constant(new int[] {0, 3, 1, 2}));
    return tf.reshape(nchw, tf.constant(new int[] {-1, featureSize}));
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
