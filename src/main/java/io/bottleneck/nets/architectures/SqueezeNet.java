package io.bottleneck.nets.architectures;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Engine;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.Dl4jEngine;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.nets.onnx.BuiltInOnnxGraphs;
import io.bottleneck.nets.onnx.OnnxEngine;
import io.bottleneck.nets.tf.TensorFlowEngine;
import io.bottleneck.nets.tf.TfSqueezeNetBase;
import java.util.Map;

/**
 * SqueezeNet 1.1, ImageNet weights without the top (ImageNet top-1 58.2%, Caffe preprocessing):
 * conv1 3x3/2, fire modules 2 to 9 between 3x3/2 max-pools, global average pooling of fire9:
 * 512 features. Runs on all three engines; fire9's expand (1 block) or fire8's expand and fire9
 * (2) can be fine-tuned.
 */
public final class SqueezeNet extends Architecture {

  /** The base id. */
  public static final String ID = "squeezenet_1.1";
  /** Default input side. */
  public static final int INPUT_SIZE = 227;
  /** Feature length of the whole base. */
  public static final int FEATURES = 512;
  /** Parameter count of the weights file. */
  public static final long PARAMS = 722_496L;
  /**
   * What a fine-tuned SqueezeNet trains: 1 = fire9's expand convolutions; 2 = fire8's expand
   * and all of fire9. The cut is always right after a squeeze layer, where the activation is
   * smallest (13x13x64 at 227), so the cached frozen part stays small.
   */
  public static final int MAX_TAIL_BLOCKS = 2;
  /** Channels of the activation entering the tail: fire9's or fire8's squeeze output. */
  public static final int TAIL_CHANNELS = 64;

  /** Fire modules 2..9: number, squeeze channels, expand channels per branch (1x1 and 3x3). */
  private static final int[][] FIRES = {
      {2, 16, 64}, {3, 16, 64}, {4, 32, 128}, {5, 32, 128},
      {6, 48, 192}, {7, 48, 192}, {8, 64, 256}, {9, 64, 256}};

  private static final Map<String, Engine.Builder> ENGINES = Map.of(
      TensorFlowEngine.NAME, Engine.keras(TfSqueezeNetBase::build),
      OnnxEngine.NAME, OnnxEngine.builtIn(BuiltInOnnxGraphs::squeezeNet),
      Dl4jEngine.NAME, Engine.keras(SqueezeNetBase::build));

  /** Fire modules 2..9 in order: {number, squeeze channels, expand channels per branch} each. */
  public static int[][] fires() {
    int[][] copy = new int[FIRES.length][];
    for (int i = 0; i < FIRES.length; i++) {
      copy[i] = FIRES[i].clone();
    }
    return copy;
  }

  /**
   * Side of the last fire modules' activations: conv1 (3x3, stride 2) and three 3x3 stride-2
   * max-pools, all 'valid' (floor): 227 -> 113 -> 56 -> 27 -> 13.
   */
  public static int lastSide(int inputSize) {
    int side = (inputSize - 3) / 2 + 1;
    for (int pool = 0; pool < 3; pool++) {
      side = (side - 3) / 2 + 1;
    }
    return side;
  }

  public SqueezeNet() {
    super(ID, INPUT_SIZE, FEATURES, "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5", PARAMS, MAX_TAIL_BLOCKS, Preprocessing::caffe, ENGINES);
  }

  @Override
  public String tailRefusal(int tailBlocks) {
    return "SqueezeNet can leave out its last 1 block (fire9's expand convolutions) or 2"
        + " (fire8's expand and fire9), not " + tailBlocks;
  }

  @Override
  public int[] tailInputShape(int inputSize, int tailBlocks) {
    checkTail(tailBlocks);
    int side = lastSide(inputSize);
    return new int[] {TAIL_CHANNELS, side, side};
  }

  @Override
  public TunableTail.Blocks tunableTail(int tailBlocks, int[] inputShape) {
    return TunableTail.squeezeNet(tailBlocks, inputShape);
  }
}
