package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.Preprocessing;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * SqueezeNet v1.1 as defined by keras-squeezenet, ImageNet weights, without the top, followed
 * by global average pooling: 512 features per image.
 *
 * <p>Input size 227, keras-squeezenet's default and the crop size of the original Caffe
 * model. conv1 (3x3, stride 2) and the 3x3/stride-2 max-pools are 'valid' (floor), the
 * squeeze and 1x1 expand convolutions are 'valid' 1x1, the 3x3 expand is 'same'; every
 * convolution has a bias and ReLU, and a fire module concatenates [expand1x1, expand3x3] on
 * channels. Spatial sizes: 227 -> 113 -> 56 -> 27 -> 13. The final Dropout is an identity at
 * inference. Convolutions are {@link KerasConv2D}, DL4J's layer with a faster forward pass.
 * Input: Caffe-style BGR 0-255 minus the ImageNet means. Not thread-safe.
 */
public final class SqueezeNetBase extends GraphImageBase {

  public static final String ID = "squeezenet_1.1";
  /** Default input side (an id {@code ID@<size>} sets another, see {@link Bases#inputSize}). */
  public static final int INPUT_SIZE = 227;
  static final int FEATURES = 512;
  /** Parameter count of the weights file and of the graph; checked on load. */
  public static final long PARAMS = 722_496L;

  /** Fire modules 2..9: squeeze and (per branch) expand channels. */
  private static final int[][] FIRES = {
      {2, 16, 64}, {3, 16, 64}, {4, 32, 128}, {5, 32, 128},
      {6, 48, 192}, {7, 48, 192}, {8, 64, 256}, {9, 64, 256}};

  /**
   * What a fine-tuned SqueezeNet trains: 1 = fire9's expand convolutions; 2 = fire8's expand
   * and all of fire9. The cut is always right after a squeeze layer, where the activation is
   * smallest (13x13x64), so the cached frozen part stays small.
   */
  static final int MAX_TAIL_BLOCKS = 2;
  /** Channels of the activation entering the tail: fire9's or fire8's squeeze output. */
  static final int TAIL_CHANNELS = 64;

  /** 0, 1 or 2: this instance stops at fire(10 - k)'s squeeze output (see {@link #idWithTail}). */
  private final int tailBlocks;

  private SqueezeNetBase(ComputationGraph graph, int inputSize, int tailBlocks) {
    super(idWithTail(inputSize, tailBlocks), graph, Preprocessing.caffe(inputSize), featureSize(inputSize, tailBlocks));
    this.tailBlocks = tailBlocks;
  }

  /**
   * {@code ID@tail1}: SqueezeNet up to fire9's squeeze layer, whose output (13x13x64 at 227,
   * flattened NCHW) feeds the expand convolutions a fine-tuned model trains; {@code ID@tail2}:
   * up to fire8's squeeze layer (same shape). The base id itself for 0; {@code ID@<size>...}
   * at another input size.
   */
  public static String idWithTail(int inputSize, int tailBlocks) {
    String id = Bases.idWithSize(ID, inputSize);
    return tailBlocks == 0 ? id : id + Bases.TAIL + tailBlocks;
  }

  /**
   * Side of the last fire modules' activations: conv1 (3x3, stride 2) and three 3x3 stride-2
   * max-pools, all 'valid' (floor): 227 -> 113 -> 56 -> 27 -> 13.
   */
  static int lastSide(int inputSize) {
    int side = (inputSize - 3) / 2 + 1;
    for (int pool = 0; pool < 3; pool++) {
      side = (side - 3) / 2 + 1;
    }
    return side;
  }

  /** Channels, height and width entering the tail at an input size. */
  static int[] tailInputShape(int inputSize) {
    int side = lastSide(inputSize);
    return new int[] {TAIL_CHANNELS, side, side};
  }

  /** Fails unless a base id may leave out {@code tailBlocks} last blocks of SqueezeNet. */
  public static void checkTail(int tailBlocks) {
    if (tailBlocks < 1 || tailBlocks > MAX_TAIL_BLOCKS) {
      throw new IllegalArgumentException("SqueezeNet can leave out its last 1 block (fire9's expand convolutions) or 2"
          + " (fire8's expand and fire9), not " + tailBlocks);
    }
  }

  /** Feature length at an input side without the last {@code tailBlocks} blocks (0: whole). */
  public static int featureSize(int inputSize, int tailBlocks) {
    int side = lastSide(inputSize);
    return tailBlocks == 0 ? FEATURES : TAIL_CHANNELS * side * side;
  }

  /** {@link Bases.KerasBuilder}: the pretrained network at {@code inputSize}, without a tail of {@code tailBlocks} (0: whole). */
  static SqueezeNetBase build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      checkTail(tailBlocks);
    }
    return new SqueezeNetBase(pretrainedGraph(weights, inputSize), inputSize, tailBlocks);
  }

  @Override
  public float[][] forward(float[] nchw, int n) {
    return tailBlocks == 0 ? super.forward(nchw, n) : activationsOf(cutLayer(tailBlocks), nchw, n);
  }


  /** The last frozen layer of a base without a tail of {@code tailBlocks}. */
  static String cutLayer(int tailBlocks) {
    return "fire" + (10 - tailBlocks) + "/squeeze1x1";
  }

  /** Builds the network at the default size and copies in the pretrained weights, verifying that all match. */
  static SqueezeNetBase fromWeights(KerasWeights weights) {
    return build(weights, INPUT_SIZE, 0);
  }

  private static ComputationGraph pretrainedGraph(KerasWeights weights, int inputSize) {
    ComputationGraph graph = newGraph(12345L, inputSize);
    weights.copyConv(graph, "conv1");
    for (int[] fire : FIRES) {
      String f = "fire" + fire[0] + "/";
      weights.copyConv(graph, f + "squeeze1x1");
      weights.copyConv(graph, f + "expand1x1");
      weights.copyConv(graph, f + "expand3x3");
    }
    weights.verify(graph, PARAMS);
    return graph;
  }

  /** Same architecture with random weights: a baseline that tests compare against. */
  static SqueezeNetBase randomlyInitialised(long seed) {
    return new SqueezeNetBase(newGraph(seed, INPUT_SIZE), INPUT_SIZE, 0);
  }

  private static ComputationGraph newGraph(long seed, int inputSize) {
    ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .weightInit(WeightInit.RELU)
        .activation(Activation.RELU)
        .convolutionMode(ConvolutionMode.Truncate)
        .graphBuilder()
        .addInputs("input")
        .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));

    g.addLayer("conv1", KerasConv2D.of(3, 64, 3, 2, false, true), "input");
    g.addLayer("pool1", maxPool(), "conv1");
    String last = "pool1";
    int channels = 64;
    for (int[] fire : FIRES) {
      last = fire(g, fire[0], channels, fire[1], fire[2], last);
      channels = 2 * fire[2];
      if (fire[0] == 3 || fire[0] == 5) {
        String pool = "pool" + fire[0];
        g.addLayer(pool, maxPool(), last);
        last = pool;
      }
    }
    g.addLayer("avg_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
    g.setOutputs("avg_pool");

    ComputationGraph graph = new ComputationGraph(g.build());
    graph.init();
    return graph;
  }

  private static SubsamplingLayer maxPool() {
    return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(3, 3).stride(2, 2).build();
  }

  private static String fire(ComputationGraphConfiguration.GraphBuilder g, int id, int in,
      int squeeze, int expand, String input) {
    String f = "fire" + id + "/";
    g.addLayer(f + "squeeze1x1", KerasConv2D.of(in, squeeze, 1, 1, false, true), input);
    g.addLayer(f + "expand1x1", KerasConv2D.of(squeeze, expand, 1, 1, false, true),
        f + "squeeze1x1");
    g.addLayer(f + "expand3x3", KerasConv2D.of(squeeze, expand, 3, 1, true, true),
        f + "squeeze1x1");
    g.addVertex(f + "concat", new MergeVertex(), f + "expand1x1", f + "expand3x3");
    return f + "concat";
  }
}
