package io.bottleneck.nets.onnx;

import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import io.bottleneck.nets.onnx.KerasOnnxLayers.FeatureMap;
import io.bottleneck.nets.onnx.KerasOnnxLayers.Padding;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.IntFunction;
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
  /** Keras Applications MobileNetV2, alpha 1.0 (1280 features). */
  public static final String MOBILENET_V2 = "mobilenet_v2_1.0";

  /**
   * An architecture: default input side, parameter count of its weights file (checked), the
   * preprocessing its weights expect, and the network.
   */
  private record Architecture(int defaultSize, long params, IntFunction<Preprocessing> preprocessing,
      Network network) {}

  /** Adds a network's layers after the NCHW input and returns its last activation. */
  @FunctionalInterface
  private interface Network {
    FeatureMap build(KerasOnnxLayers layers, FeatureMap input);
  }

  private static final Map<String, Architecture> ARCHITECTURES = new LinkedHashMap<>();

  static {
    // sizes and parameter counts as MobileNetV1Base and SqueezeNetBase declare them
    ARCHITECTURES.put(MobileNetV1Base.ID,
        new Architecture(224, 218_544L, Preprocessing::plusMinusOne, BuiltInOnnxGraphs::mobileNetV1));
    ARCHITECTURES.put(SqueezeNetBase.ID,
        new Architecture(227, 722_496L, Preprocessing::caffe, BuiltInOnnxGraphs::squeezeNet));
    ARCHITECTURES.put(MOBILENET_V2,
        new Architecture(224, 2_257_984L, Preprocessing::plusMinusOne, BuiltInOnnxGraphs::mobileNetV2));
  }

  /** name, optional @size, optional @tail<k> */
  private static final Pattern ID = Pattern.compile("([^@]+)(?:@(\\d{1,4}))?(?:@tail([1-9]\\d?))?");

  private BuiltInOnnxGraphs() {}

  /**
   * The serialized ONNX model of a base from the bytes of its Keras weights file. Fails naming
   * the base if the id is unknown or malformed, or if the file does not hold exactly the
   * architecture's tensors (another base's weights, say).
   */
  public static byte[] write(String baseId, byte[] h5Bytes) {
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
      FeatureMap last = id.architecture.network.build(layers, layers.nhwcInput(INPUT, id.size));
      weights.verifyAllTaken(id.architecture.params);
      layers.output(OUTPUT, id.tailBlocks == 0 ? layers.globalAveragePool(last) : layers.blockInput(id.tailBlocks));
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException("The weights do not fit base '" + baseId + "': "
          + e.getMessage(), e);
    }
    return graph.build().toByteArray();
  }

  /** The preprocessing whose NHWC output the graph of {@code baseId} takes as {@value #INPUT}. */
  public static Preprocessing inputPreprocessing(String baseId) {
    Parsed id = parse(baseId);
    return id.architecture.preprocessing.apply(id.size);
  }

  private record Parsed(Architecture architecture, int size, int tailBlocks) {}

  private static Parsed parse(String baseId) {
    Objects.requireNonNull(baseId, "base id");
    String name = baseId.split("@", 2)[0];
    Architecture a = ARCHITECTURES.get(name);
    if (a == null) {
      throw new IllegalArgumentException("No ONNX graph for base '" + baseId + "'; supported: "
          + String.join(", ", ARCHITECTURES.keySet()));
    }
    Matcher m = ID.matcher(baseId);
    if (!m.matches()) {
      throw new IllegalArgumentException("Base id '" + baseId + "': expected " + name
          + "[@<size>][@tail<k>]");
    }
    int size = m.group(2) == null ? a.defaultSize : Integer.parseInt(m.group(2));
    if (size < 1) {
      throw new IllegalArgumentException("Base '" + baseId + "': the input size must be positive");
    }
    return new Parsed(a, size, m.group(3) == null ? 0 : Integer.parseInt(m.group(3)));
  }

  // ------------------------------------------------------------------ architectures

  /** MobileNet v1 alpha 0.25: output channels of conv1 and of the 13 pointwise convolutions. */
  private static final int[] MOBILENET_V1_CHANNELS = {8, 16, 32, 32, 64, 64, 128, 128, 128, 128,
      128, 128, 256, 256};
  /** Stride of the depthwise convolution of blocks 1..13 (index 0 unused). */
  private static final int[] MOBILENET_V1_STRIDES = {0, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};

  /** Keras 2.0.4 MobileNet ('same' padding everywhere): conv1, then 13 depthwise + pointwise blocks. */
  private static FeatureMap mobileNetV1(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.relu6(l.convBn("conv1", "conv1_bn", input, 3, MOBILENET_V1_CHANNELS[0], 2));
    for (int i = 1; i <= 13; i++) {
      l.markBlockInput(x);
      x = l.relu6(l.depthwiseBn("conv_dw_" + i, "conv_dw_" + i + "_bn", x, MOBILENET_V1_STRIDES[i]));
      x = l.relu6(l.convBn("conv_pw_" + i, "conv_pw_" + i + "_bn", x, 1, MOBILENET_V1_CHANNELS[i], 1));
    }
    return x;
  }

  /** SqueezeNet v1.1 fire modules 2..9: squeeze and (per branch) expand channels. */
  private static final int[][] SQUEEZENET_FIRES = {
      {2, 16, 64}, {3, 16, 64}, {4, 32, 128}, {5, 32, 128},
      {6, 48, 192}, {7, 48, 192}, {8, 64, 256}, {9, 64, 256}};

  /**
   * keras-squeezenet v1.1: conv1 3x3/2 and 3x3/2 max pools 'valid' (floor), after fire3 and
   * fire5; fires concatenate [expand1x1, expand3x3]. A fire's squeeze output counts as the input
   * of its block, as the other engines cut there.
   */
  private static FeatureMap squeezeNet(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.maxPool(l.relu(l.conv("conv1", input, 3, 64, 2, Padding.VALID)), 3, 2);
    for (int[] fire : SQUEEZENET_FIRES) {
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
   * MobileNetV2 alpha 1.0 inverted-residual stages: expansion, output channels, blocks, stride
   * of the first block.
   */
  private static final int[][] MOBILENET_V2_STAGES = {
      {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2},
      {6, 320, 1, 1}};

  /**
   * Keras Applications MobileNetV2 alpha 1.0: Conv1 (32), 17 inverted-residual blocks
   * ({@code expanded_conv}, then {@code block_1..16}), Conv_1 (1280), each convolution with a
   * folded BatchNorm. Keras pads its stride-2 layers with {@code correct_pad}, which for 3x3 is
   * TF's 'same' (even side: 0 before, 1 after; odd: 1 and 1).
   */
  private static FeatureMap mobileNetV2(KerasOnnxLayers l, FeatureMap input) {
    FeatureMap x = l.relu6(l.convBn("Conv1", "bn_Conv1", input, 3, 32, 2));
    int block = 0;
    for (int[] stage : MOBILENET_V2_STAGES) {
      for (int i = 0; i < stage[2]; i++, block++) {
        String name = block == 0 ? "expanded_conv" : "block_" + block;
        x = invertedResidual(l, name, x, stage[0], stage[1], i == 0 ? stage[3] : 1);
      }
    }
    return l.relu6(l.convBn("Conv_1", "Conv_1_bn", x, 1, 1280, 1));
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
