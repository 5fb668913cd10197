package io.bottleneck.nets.architectures;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Engine;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.nets.onnx.BuiltInOnnxGraphs;
import io.bottleneck.nets.onnx.OnnxEngine;
import io.bottleneck.nets.tf.TensorFlowEngine;
import io.bottleneck.nets.tf.TfMobileNetV2Base;
import java.util.Map;

/**
 * Keras Applications MobileNetV2, alpha 1.0, ImageNet weights without the top (ImageNet top-1
 * 71.8%), RGB scaled to [-1, 1]: Conv1 3x3/2 (32), 17 inverted residual blocks, Conv_1 1x1
 * (1280), global average pooling: 1,280 features. The default base. Runs on TensorFlow and
 * ONNX Runtime (no DL4J graph: {@link TfMobileNetV2Base} is the implementation, held to the
 * published ONNX file by MobileNetV2Test); block_16 + Conv_1 (1 block) can be fine-tuned.
 */
public final class MobileNetV2 extends Architecture {

  /** The base id. */
  public static final String ID = "mobilenet_v2_1.0";
  /** Default input side. */
  public static final int INPUT_SIZE = 224;
  /** Feature length of the whole base. */
  public static final int FEATURES = 1280;
  /** Parameter count of the weights file. */
  public static final long PARAMS = 2_257_984L;
  /** Blocks a tail may hold: block_16 (+ Conv_1) only: block_15 ends in a residual add. */
  public static final int MAX_TAIL_BLOCKS = 1;
  /** Channels entering block_16, the first (only) block of a tail. */
  public static final int TAIL_CHANNELS = 160;
  /** Expansion factor of blocks 1..16. */
  public static final int EXPANSION = 6;

  /** Blocks 1..16: output channels and stride. */
  private static final int[][] BLOCKS = {
      {24, 2}, {24, 1},
      {32, 2}, {32, 1}, {32, 1},
      {64, 2}, {64, 1}, {64, 1}, {64, 1},
      {96, 1}, {96, 1}, {96, 1},
      {160, 2}, {160, 1}, {160, 1},
      {320, 1}};

  private static final Map<String, Engine.Builder> ENGINES = Map.of(
      TensorFlowEngine.NAME, Engine.keras(TfMobileNetV2Base::build),
      OnnxEngine.NAME, OnnxEngine.builtIn(BuiltInOnnxGraphs::mobileNetV2));

  /** Number of inverted residual blocks after {@code expanded_conv} (block 0). */
  public static int blocks() {
    return BLOCKS.length;
  }

  /** Output channels of block {@code block} (1..16). */
  public static int channels(int block) {
    return BLOCKS[block - 1][0];
  }

  /** Stride of block {@code block}'s depthwise convolution (1..16). */
  public static int stride(int block) {
    return BLOCKS[block - 1][1];
  }

  public MobileNetV2() {
    super(ID, INPUT_SIZE, FEATURES, "mobilenet_v2_1.0_224_no_top.h5", PARAMS, MAX_TAIL_BLOCKS, Preprocessing::plusMinusOne, ENGINES);
  }

  @Override
  public String tailRefusal(int tailBlocks) {
    return "MobileNetV2 can leave out its last 1 block only (block_16 and Conv_1), not " + tailBlocks
        + ": block_15 ends in a residual add, which a DL4J layer list cannot express";
  }

  /**
   * The activation entering block_16 (SAME padding: each stride-2 layer takes the ceiling of
   * half the side): 160x7x7 at 224.
   */
  @Override
  public int[] tailInputShape(int inputSize, int tailBlocks) {
    checkTail(tailBlocks);
    int side = (inputSize + 1) / 2; // Conv1
    for (int b = 1; b < BLOCKS.length; b++) {
      int stride = BLOCKS[b - 1][1];
      side = (side + stride - 1) / stride;
    }
    return new int[] {TAIL_CHANNELS, side, side};
  }

  @Override
  public TunableTail.Blocks tunableTail(int tailBlocks, int[] inputShape) {
    return TunableTail.mobileNetV2(inputShape);
  }
}
