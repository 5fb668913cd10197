package io.bottleneck.nets.tf;

import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import java.util.List;
import org.tensorflow.Operand;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * {@link SqueezeNetBase} (v1.1, 227, 512 features) on the TensorFlow engine: same weights,
 * same preprocessing, same features to within 1e-4.
 *
 * <p>NHWC, as the DL4J base: conv1 3x3/2 and the 3x3/2 max-pools VALID (floor), squeeze and
 * 1x1 expand VALID, 3x3 expand SAME, every convolution with bias and ReLU, fire modules
 * concatenating [expand1x1, expand3x3] on channels; 227 -> 113 -> 56 -> 27 -> 13, then the
 * mean over H and W.
 */
public final class TfSqueezeNetBase extends TfGraphBase {

  private static final SqueezeNet ARCHITECTURE = new SqueezeNet();

  private TfSqueezeNetBase(KerasWeights weights, int inputSize, int tailBlocks) {
    super(ARCHITECTURE.idWithTail(inputSize, tailBlocks), ARCHITECTURE.preprocessing(inputSize),
        ARCHITECTURE.featureSize(inputSize, tailBlocks),
        (tf, input) -> build(tf, input, weights, ARCHITECTURE.featureSize(inputSize, tailBlocks), tailBlocks));
  }

  /** Builds the graph from the weights at the default size, verifying that every tensor is used exactly. */
  static TfSqueezeNetBase fromWeights(KerasWeights weights) {
    return build(weights, SqueezeNet.INPUT_SIZE, 0);
  }

  /**
   * {@link io.bottleneck.nets.Engine.KerasBuilder}: at {@code inputSize}; with {@code tailBlocks}
   * > 0 up to fire9's (1) or fire8's (2) squeeze output, flattened NCHW.
   */
  public static TfSqueezeNetBase build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      ARCHITECTURE.checkTail(tailBlocks);
    }
    return new TfSqueezeNetBase(weights, inputSize, tailBlocks);
  }

  private static Operand<TFloat32> build(Ops tf, Operand<TFloat32> input, KerasWeights w, int featureSize, int tailBlocks) {
    Operand<TFloat32> x = conv(tf, w, "conv1", input, 3, 3, 64, 2, "VALID");
    Operand<TFloat32> cut = null;
    x = maxPool(tf, x);
    int channels = 64;
    for (int[] fire : SqueezeNet.fires()) {
      String f = "fire" + fire[0] + "/";
      Operand<TFloat32> s = conv(tf, w, f + "squeeze1x1", x, 1, channels, fire[1], 1, "VALID");
      if (fire[0] == 10 - tailBlocks) {
        cut = s;
      }
      Operand<TFloat32> e1 = conv(tf, w, f + "expand1x1", s, 1, fire[1], fire[2], 1, "VALID");
      Operand<TFloat32> e3 = conv(tf, w, f + "expand3x3", s, 3, fire[1], fire[2], 1, "SAME");
      x = tf.concat(List.of(e1, e3), tf.constant(3));
      channels = 2 * fire[2];
      if (fire[0] == 3 || fire[0] == 5) {
        x = maxPool(tf, x);
      }
    }
    w.verifyAllTaken(SqueezeNet.PARAMS);
    if (tailBlocks == 0) {
      return globalAveragePool(tf, x);
    }
    // NHWC -> NCHW, flattened: the layout DL4J's convolutional-flat input expects
    Operand<TFloat32> nchw = tf.linalg.transpose(cut, tf.constant(new int[] {0, 3, 1, 2}));
    return tf.reshape(nchw, tf.constant(new int[] {-1, featureSize}));
  }

  /** Conv2D with bias + ReLU. */
  private static Operand<TFloat32> conv(Ops tf, KerasWeights w, String name, Operand<TFloat32> x,
      int k, int in, int out, int stride, String padding) {
    KerasWeights.Conv conv = w.takeConv(name);
    checkShape(name + " kernel", conv.kernel(), k, k, in, out);
    if (conv.bias() == null) {
      throw new IllegalStateException("No bias for convolution " + name);
    }
    checkShape(name + " bias", conv.bias(), out);
    Operand<TFloat32> y = tf.nn.conv2d(x,
        constant(tf, KerasWeights.values(conv.kernel()), k, k, in, out), strides(stride), padding);
    return tf.nn.relu(tf.nn.biasAdd(y, constant(tf, KerasWeights.values(conv.bias()), out)));
  }

  /** 3x3 stride-2 VALID max-pool. */
  private static Operand<TFloat32> maxPool(Ops tf, Operand<TFloat32> x) {
    return tf.nn.maxPool(x, tf.constant(new int[] {1, 3, 3, 1}), tf.constant(new int[] {1, 2, 2, 1}),
        "VALID");
  }
}
