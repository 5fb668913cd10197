package io.bottleneck.nets.onnx;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.architectures.MobileNetV1;
import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.onnx.KerasOnnxLayers.FeatureMap;
import io.bottleneck.nets.onnx.KerasOnnxLayers.Padding;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * ONNX graphs of the built-in frozen bases, written from their Keras {@code .h5} weights, for
 * the ONNX Runtime engine.
 *
 * <p>Contract of every graph: one input {@value #INPUT}, float {@code [N, S, S, 3]} (NHWC),
 * holding what {@link #inputPreprocessing} writes, exactly the TensorFlow engine's input; one
 * output {@value #OUTPUT}, float {@code [N, featureSize]}: the global average pool of the last
 * activation, or with {@code @tail<k>} the activation entering the last k blocks flattened in
 * NCHW order, as the other engines give them. Inside: a transpose to NCHW (ONNX's convolution
 * layout), then the network as the TensorFlow engine builds it (same padding, same folded
 * BatchNorm values), so features agree with it to float rounding.
 *
 * <p>Base ids are {@code name[@size][@tail<k>]} as in {@link io.bottleneck.nets.Bases}.
 * Each architecture is one method from a {@link KerasOnnxLayers} and the NCHW input to its last
 * activation, marking where each block starts: MobileNet v1's 13 depthwise + pointwise blocks,
 * SqueezeNet's fires (cut after their squeeze layer, as the other engines do), MobileNetV2's 17
 * inverted-residual blocks ({@code @tail1}: the input of {@code block_16}).
 */
public final class BuiltInOnnxGraphs {

  /** The graph input's name. */
  public static final String INPUT = "input";
  /** The graph output's name. */
  public static final String OUTPUT = "features";
  /**
   * An architecture's network on ONNX: adds its layers after the NCHW input, marking where each
   * block starts, and returns its last activation.
   */
  @FunctionalInterface
  public interface Network {
    FeatureMap build(KerasOnnxLayers layers, FeatureMap input);
  }

  /** name, optional @size, optional @tail<k> */
  private static final Pattern ID = Pattern.compile("([^@]+)(?:@(\\d{1,4}))?(?:@tail([1-9]\\d?))?");

  private BuiltInOnnxGraphs() {}

  /**
   * The serialized ONNX model of a built-in base from the bytes of its Keras weights file: the
   * network its {@link Architecture} runs on ONNX Runtime. Fails naming the base if the id is
   * unknown or malformed, or if the file does not hold exactly the architecture's tensors
   * (another base's weights, say).
   */
  public static byte[] write(String baseId, byte[] h5Bytes) {
    Architecture architecture = architecture(baseId);
    if (!(architecture.engines().get(OnnxEngine.NAME) instanceof OnnxEngine.GraphBuilder builder)) {
      throw new IllegalArgumentException("No ONNX graph for base '" + baseId + "'");
    }
    return write(architecture, builder.network(), baseId, h5Bytes);
  }

  /** {@link #write(String, byte[])} with the architecture and its network given. */
  static byte[] write(Architecture architecture, Network network, String baseId, byte[] h5Bytes) {
    Parsed id = parse(baseId);
    KerasWeights weights;
    try {
      weights = KerasWeights.read(h5Bytes);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("Cannot read the weights of base '" + baseId + "': "
          + e.getMessage(), e);
    }
    OnnxGraphBuilder graph = new OnnxGraphBuilder(baseId);
    KerasOnnxLayers layers = new KerasOnnxLayers(baseId, graph, weights);
    try {
      FeatureMap last = network.build(layers, layers.nhwcInput(INPUT, id.size));
      weights.verifyAllTaken(architecture.weightParams());
      layers.output(OUTPUT, id.tailBlocks == 0 ? layers.globalAveragePool(last) : layers.blockInput(id.tailBlocks));
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("The weights do not fit base '" + baseId + "': "
          + e.getMessage(), e);
    }
    return graph.build().toByteArray();
  }

  /** The preprocessing whose NHWC output the graph of {@code baseId} takes as {@value #INPUT}. */
  public static Preprocessing inputPreprocessing(String baseId) {
    return architecture(baseId).preprocessing(parse(baseId).size);
  }

  private record Parsed(int size, int tailBlocks) {}

  /** The architecture of a base id; fails naming the ones with an ONNX graph. */
  private static Architecture architecture(String baseId) {
    Objects.requireNonNull(baseId, "base id");
    String name = baseId.split("@", 2)[0];
    List<Architecture> onnx = Bases.architectures().stream()
        .filter(a -> a.engines().containsKey(OnnxEngine.NAME)).toList();
    return onnx.stream().filter(a -> a.id().equals(name)).findFirst().orElseThrow(() ->
        new IllegalArgumentException("No ONNX graph for base '" + baseId + "'; supported: "
            + String.join(", ", onnx.stream().map(Architecture::id).toList())));
  }

  private static Parsed parse(String baseId) {
    Architecture a = architecture(baseId);
    String name = a.id();
    Matcher m = ID.matcher(baseId);
    if (!m.matches()) {
      throw new IllegalArgumentException("Base id '" + baseId + "': expected " + name
          + "[@<size>][@tail<k>]");
    }
    int size = m.group(2) == null ? a.defaultInputSize() : Integer.parseInt(m.group(2));
    if (size < 1) {
      throw new IllegalArgumentException("Base '" + baseId + "': the input size must be positive");
    }
    return new Parsed(size, m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
  }

  // ------------------------------------------------------------------ architectures

  /** Keras 2.0.4 MobileNet ('same' padding everywhere): conv1, then 13 depthwise + pointwise blocks. */
  public static FeatureMap mobileNetV1(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.relu6(l.convBn("conv1", "conv1_bn", input, 3, MobileNetV1.channels(0), 2));
    for (int i = 1; i <= 13; i++) {
      l.markBlockInput(x);
      x = l.relu6(l.depthwiseBn("conv_dw_" + i, "conv_dw_" + i + "_bn", x, MobileNetV1.dwStride(i)));
      x = l.relu6(l.convBn("conv_pw_" + i, "conv_pw_" + i + "_bn", x, 1, MobileNetV1.channels(i), 1));
    }
    return x;
  }

  /**
   * keras-squeezenet v1.1: conv1 3x3/2 and 3x3/2 max pools 'valid' (floor), after fire3 and
   * fire5; fires concatenate [expand1x1, expand3x3]. A fire's squeeze output counts as the input
   * of its block, as the other engines cut there.
   */
  public static FeatureMap squeezeNet(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.maxPool(l.relu(l.conv("conv1", input, 3, 64, 2, Padding.VALID)), 3, 2);
    for (int[] fire : SqueezeNet.fires()) {
      String f = "fire" + fire[0] + "/";
      FeatureMap s = l.relu(l.conv(f + "squeeze1x1", x, 1, fire[1], 1, Padding.VALID));
      l.markBlockInput(s);
      FeatureMap e1 = l.relu(l.conv(f + "expand1x1", s, 1, fire[2], 1, Padding.VALID));
      FeatureMap e3 = l.relu(l.conv(f + "expand3x3", s, 3, fire[2], 1, Padding.SAME));
      x = l.concat("fire" + fire[0] + "/concat", e1, e3);
      if (fire[0] == 3 || fire[0] == 5) {
        x = l.maxPool(x, 3, 2);
      }
    }
    return x;
  }

  /**
   * Keras Applications MobileNetV2 alpha 1.0: Conv1 (32), 17 inverted-residual blocks
   * ({@code expanded_conv}, then {@code block_1..16}), Conv_1 (1280), each convolution with a
   * folded BatchNorm. Keras pads its stride-2 layers with {@code correct_pad}, which for 3x3 is
   * TF's 'same' (even side: 0 before, 1 after; odd: 1 and 1).
   */
  public static FeatureMap mobileNetV2(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.relu6(l.convBn("Conv1", "bn_Conv1", input, 3, 32, 2));
    x = invertedResidual(l, "expanded_conv", x, 1, 16, 1);
    for (int b = 1; b <= MobileNetV2.blocks(); b++) {
      x = invertedResidual(l, "block_" + b, x, MobileNetV2.EXPANSION, MobileNetV2.channels(b), MobileNetV2.stride(b));
    }
    return l.relu6(l.convBn("Conv_1", "Conv_1_bn", x, 1, MobileNetV2.FEATURES, 1));
  }

  /**
   * 1x1 expansion (none when {@code expansion} is 1) + ReLU6, 3x3 depthwise + ReLU6, linear 1x1
   * projection, plus the input when the shape is unchanged.
   */
  private static FeatureMap invertedResidual(KerasOnnxLayers l, String name, FeatureMap x,
      int expansion, int out, int stride) {
    l.markBlockInput(x);
    FeatureMap y = x;
    if (expansion != 1) {
      y = l.relu6(l.convBn(name + "_expand", name + "_expand_BN", y, 1, x.channels() * expansion, 1));
    }
    y = l.relu6(l.depthwiseBn(name + "_depthwise", name + "_depthwise_BN", y, stride));
    y = l.convBn(name + "_project", name + "_project_BN", y, 1, out, 1);
    return stride == 1 && x.channels() == out ? l.add(x, y) : y;
  }
}
