package io.bottleneck.nets.onnx;

import io.bottleneck.nets.FoldedBatchNorm;
import io.bottleneck.nets.KerasWeights;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import onnx.Onnx;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Keras layers as ONNX nodes (NCHW), each taking its weights from a {@link KerasWeights}, so the
 * caller can verify afterwards that the file held exactly the architecture's tensors.
 *
 * <p>Tracks every activation's shape: ONNX convolutions and pools get explicit {@code pads}
 * computed from the actual spatial size rather than {@code auto_pad}, so TF's 'same' (odd
 * padding pixel after) is exact at every input size, odd ones included. BatchNormalization is
 * folded into the preceding convolution with {@link FoldedBatchNorm}, on the Keras kernel, so the
 * graph holds the same numbers as the TensorFlow engine's.
 */
public final class KerasOnnxLayers {

  /** An NCHW activation of the graph: its value's name, channels, height and width. */
  public record FeatureMap(String value, int channels, int height, int width) {}

  /** Keras/TF padding modes. */
  enum Padding {
    /** Output side ceil(side / stride), padding split with the odd pixel after. */
    SAME,
    /** No padding: output side floor((side - kernel) / stride) + 1. */
    VALID
  }

  private static final Onnx.TensorProto.DataType FLOAT = Onnx.TensorProto.DataType.FLOAT;

  private final String baseId;
  private final OnnxGraphBuilder graph;
  private final KerasWeights weights;
  private final List<FeatureMap> blockInputs = new ArrayList<>();
  private String relu6Min;
  private String relu6Max;

  KerasOnnxLayers(String baseId, OnnxGraphBuilder graph, KerasWeights weights) {
    this.baseId = baseId;
    this.graph = graph;
    this.weights = weights;
  }

  /**
   * Declares the graph input {@code name}, float {@code [N, size, size, 3]} (NHWC, the layout
   * the engines' preprocessing writes), and transposes it to NCHW for ONNX's convolutions.
   */
  FeatureMap nhwcInput(String name, int size) {
    String in = graph.input(name, FLOAT, OnnxGraphBuilder.BATCH, size, size, 3);
    String nchw = graph.node("Transpose", in).name("to_nchw").attr("perm", 0, 3, 1, 2).output();
    return new FeatureMap(nchw, 3, size, size);
  }

  /** Conv2D with bias (Keras kernel {@code [k,k,in,out]}), no activation. */
  FeatureMap conv(String layer, FeatureMap x, int k, int out, int stride, Padding padding) {
    KerasWeights.Conv conv = weights.takeConv(layer);
    checkShape(layer + " kernel", conv.kernel(), k, k, x.channels(), out);
    if (conv.bias() == null) {
      throw new IllegalStateException("No bias for convolution " + layer);
    }
    checkShape(layer + " bias", conv.bias(), out);
    return convNode(layer, x, KerasWeights.values(conv.kernel()), KerasWeights.values(conv.bias()),
        k, out, stride, 1, padding);
  }

  /** Conv2D without bias, 'same' padding, followed by BatchNormalization {@code bn} (folded). */
  FeatureMap convBn(String layer, String bn, FeatureMap x, int k, int out, int stride) {
    KerasWeights.Conv conv = weights.takeConv(layer);
    if (conv.bias() != null) {
      throw new IllegalStateException("Unexpected bias for convolution " + layer);
    }
    checkShape(layer + " kernel", conv.kernel(), k, k, x.channels(), out);
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(conv.kernel()), out,
        weights.takeBatchNorm(bn), bn);
    return convNode(layer, x, f.kernel(), f.bias(), k, out, stride, 1, Padding.SAME);
  }

  /**
   * DepthwiseConv2D 3x3 (multiplier 1, no bias, 'same' padding), followed by BatchNormalization
   * {@code bn} (folded): an ONNX Conv with one group per channel.
   */
  FeatureMap depthwiseBn(String layer, String bn, FeatureMap x, int stride) {
    int c = x.channels();
    INDArray kernel = weights.takeDepthwise(layer);
    checkShape(layer + " kernel", kernel, 3, 3, c, 1);
    // [3,3,C,1]: the output channel of a value is its index modulo C, as fold expects
    FoldedBatchNorm f = FoldedBatchNorm.fold(KerasWeights.values(kernel), c, weights.takeBatchNorm(bn), bn);
    return convNode(layer, x, f.kernel(), f.bias(), 3, c, stride, c, Padding.SAME);
  }

  FeatureMap relu(FeatureMap x) {
    return same(x, graph.node("Relu", x.value()).name(x.value() + "_relu").output());
  }

  /** ReLU6 as Clip(0, 6): since opset 11 the bounds are inputs, shared by every Clip. */
  FeatureMap relu6(FeatureMap x) {
    if (relu6Min == null) {
      relu6Min = graph.scalar("relu6_min", 0f);
      relu6Max = graph.scalar("relu6_max", 6f);
    }
    return same(x, graph.node("Clip", x.value(), relu6Min, relu6Max).name(x.value() + "_relu6").output());
  }

  /** Element-wise sum of two activations of one shape (a residual connection). */
  FeatureMap add(FeatureMap a, FeatureMap b) {
    if (a.channels() != b.channels() || a.height() != b.height() || a.width() != b.width()) {
      throw new IllegalStateException("Cannot add " + a + " and " + b);
    }
    return same(a, graph.node("Add", a.value(), b.value()).name(b.value() + "_add").output());
  }

  /** Concatenation on channels (Keras' axis -1 in NHWC), {@code a}'s channels first. */
  FeatureMap concat(String name, FeatureMap a, FeatureMap b) {
    if (a.height() != b.height() || a.width() != b.width()) {
      throw new IllegalStateException("Cannot concatenate " + a + " and " + b);
    }
    String y = graph.node("Concat", a.value(), b.value()).name(name).attr("axis", 1L).output();
    return new FeatureMap(y, a.channels() + b.channels(), a.height(), a.width());
  }

  /** Max pooling, {@code k x k} with a stride, TF 'valid' (floor, no padding). */
  FeatureMap maxPool(FeatureMap x, int k, int stride) {
    int h = outputSide("max pool after " + x.value(), x.height(), k, stride, 0, 0);
    int w = outputSide("max pool after " + x.value(), x.width(), k, stride, 0, 0);
    String y = graph.node("MaxPool", x.value()).name(x.value() + "_pool")
        .attr("kernel_shape", k, k).attr("strides", stride, stride).attr("pads", 0, 0, 0, 0)
        .output();
    return new FeatureMap(y, x.channels(), h, w);
  }

  /** Mean over height and width: {@code [N, C, 1, 1]}. */
  FeatureMap globalAveragePool(FeatureMap x) {
    String y = graph.node("GlobalAveragePool", x.value()).name("global_average_pool").output();
    return new FeatureMap(y, x.channels(), 1, 1);
  }

  /** Records {@code x} as the input of the next block (see {@link #blockInput}). */
  void markBlockInput(FeatureMap x) {
    blockInputs.add(x);
  }

  /** The activation entering the last {@code tailBlocks} blocks marked by {@link #markBlockInput}. */
  FeatureMap blockInput(int tailBlocks) {
    if (tailBlocks < 1 || tailBlocks > blockInputs.size()) {
      throw new IllegalArgumentException("Base '" + baseId + "' can leave out its last 1 to "
          + blockInputs.size() + " blocks, not " + tailBlocks);
    }
    return blockInputs.get(blockInputs.size() - tailBlocks);
  }

  /**
   * Flattens {@code x} to the graph output {@code name}, {@code [N, C*H*W]} in NCHW order (one
   * value per channel after a global pool), and returns the number of features.
   */
  int output(String name, FeatureMap x) {
    int features = Math.multiplyExact(x.channels(), Math.multiplyExact(x.height(), x.width()));
    String y = graph.node("Flatten", x.value()).name("flatten").attr("axis", 1L).output(name);
    graph.output(y, FLOAT, OnnxGraphBuilder.BATCH, features);
    return features;
  }

  private FeatureMap convNode(String layer, FeatureMap x, float[] hwio, float[] bias, int k,
      int out, int stride, int groups, Padding padding) {
    int in = x.channels() / groups;
    int[] padH = pads(x.height(), k, stride, padding);
    int[] padW = pads(x.width(), k, stride, padding);
    int h = outputSide(layer, x.height(), k, stride, padH[0], padH[1]);
    int w = outputSide(layer, x.width(), k, stride, padW[0], padW[1]);
    // a depthwise [k,k,C,1] kernel read as HWIO with in=C, out=1 lands in [1,C,k,k] order,
    // which is the same sequence of values as the grouped-conv layout [C,1,k,k]
    float[] oihw = groups == 1 ? toOihw(hwio, k, in, out) : toOihw(hwio, k, x.channels(), 1);
    String kernel = graph.constant(layer + "_kernel", oihw, out, in, k, k);
    String b = graph.constant(layer + "_bias", bias, out);
    String y = graph.node("Conv", x.value(), kernel, b).name(layer)
        .attr("kernel_shape", k, k)
        .attr("strides", stride, stride)
        .attr("pads", padH[0], padW[0], padH[1], padW[1])
        .attr("group", (long) groups)
        .output();
    return new FeatureMap(y, out, h, w);
  }

  /** Padding before and after along one side. */
  private static int[] pads(int side, int k, int stride, Padding padding) {
    if (padding == Padding.VALID) {
      return new int[] {0, 0};
    }
    int out = (side + stride - 1) / stride;
    int total = Math.max((out - 1) * stride + k - side, 0);
    return new int[] {total / 2, total - total / 2};
  }

  private int outputSide(String layer, int side, int k, int stride, int before, int after) {
    if (side + before + after < k) {
      throw new IllegalArgumentException("Base '" + baseId + "': the input is too small, "
          + layer + " gets a side of " + side + " for a " + k + "x" + k + " window");
    }
    return (side + before + after - k) / stride + 1;
  }

  /** Keras/TF HWIO {@code [k,k,in,out]} to ONNX OIHW {@code [out,in,k,k]}. */
  private static float[] toOihw(float[] hwio, int k, int in, int out) {
    float[] oihw = new float[hwio.length];
    for (int y = 0; y < k; y++) {
      for (int x = 0; x < k; x++) {
        for (int i = 0; i < in; i++) {
          for (int o = 0; o < out; o++) {
            oihw[((o * in + i) * k + y) * k + x] = hwio[((y * k + x) * in + i) * out + o];
          }
        }
      }
    }
    return oihw;
  }

  private static FeatureMap same(FeatureMap x, String value) {
    return new FeatureMap(value, x.channels(), x.height(), x.width());
  }

  private static void checkShape(String what, INDArray tensor, long... expected) {
    if (!Arrays.equals(tensor.shape(), expected)) {
      throw new IllegalStateException("Shape mismatch for " + what + ": Keras "
          + Arrays.toString(tensor.shape()) + ", expected " + Arrays.toString(expected));
    }
  }
}
