package io.bottleneck.nets.architectures;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Engine;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.Dl4jEngine;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.nets.onnx.BuiltInOnnxGraphs;
import io.bottleneck.nets.onnx.OnnxEngine;
import io.bottleneck.nets.tf.TensorFlowEngine;
import io.bottleneck.nets.tf.TfMobileNetBase;
import java.util.Map;

/**
 * Keras 2.0.4 MobileNet v1, alpha 0.25, ImageNet weights without the top (ImageNet top-1
 * 49.8%): conv1 3x3/2, then 13 blocks of a 3x3 depthwise and a 1x1 pointwise convolution,
 * each with BatchNormalization and ReLU6, global average pooling: 256 features. Small and fast,
 * for quick runs and tests. Runs on all three engines; the last 1 or 2 blocks can be fine-tuned.
 */
public final class MobileNetV1 extends Architecture {

  /** The base id. */
  public static final String ID = "mobilenet_v1_0.25";
  /** Default input side. */
  public static final int INPUT_SIZE = 224;
  /** Feature length of the whole base. */
  public static final int FEATURES = 256;
  /** Parameter count of the weights file. */
  public static final long PARAMS = 218_544L;
  /** Blocks a fine-tuned MobileNet may train: its last one or two. */
  public static final int MAX_TAIL_BLOCKS = 2;

  /** Output channels of conv1 and of the 13 pointwise convolutions, for alpha 0.25. */
  private static final int[] CHANNELS = {8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128, 256, 256};
  /** Stride of the depthwise convolution of blocks 1..13 (index 0 unused). */
  private static final int[] DW_STRIDE = {0, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};

  private static final Map<String, Engine.Builder> ENGINES = Map.of(
      TensorFlowEngine.NAME, Engine.keras(TfMobileNetBase::build),
      OnnxEngine.NAME, OnnxEngine.builtIn(BuiltInOnnxGraphs::mobileNetV1),
      Dl4jEngine.NAME, Engine.keras(MobileNetV1Base::build));

  /** Output channels of block {@code block} (0: conv1, 1..13: the pointwise convolutions). */
  public static int channels(int block) {
    return CHANNELS[block];
  }

  /** Stride of block {@code block}'s depthwise convolution (1..13). */
  public static int dwStride(int block) {
    return DW_STRIDE[block];
  }

  public MobileNetV1() {
    super(ID, INPUT_SIZE, FEATURES, "mobilenet_2_5_224_tf_no_top.h5", PARAMS, MAX_TAIL_BLOCKS, Preprocessing::plusMinusOne, ENGINES);
  }

  @Override
  public String tailRefusal(int tailBlocks) {
    return "MobileNet can leave out its last 1 to " + MAX_TAIL_BLOCKS + " blocks, not " + tailBlocks;
  }

  /** 'same' padding: each stride-2 layer takes the ceiling of half the side. */
  @Override
  public int[] tailInputShape(int inputSize, int tailBlocks) {
    checkTail(tailBlocks);
    int block = 14 - tailBlocks; // first block of the tail
    int side = (inputSize + 1) / 2; // after conv1
    for (int i = 1; i < block; i++) {
      side = (side + DW_STRIDE[i] - 1) / DW_STRIDE[i];
    }
    return new int[] {CHANNELS[block - 1], side, side};
  }

  @Override
  public TunableTail.Blocks tunableTail(int tailBlocks, int[] inputShape) {
    return TunableTail.mobileNetV1(tailBlocks, inputShape);
  }
}
