package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.Preprocessing;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Keras Applications MobileNet v1, alpha 0.25, 224x224, ImageNet weights, without the top,
 * followed by global average pooling: 256 features per image.
 *
 * <p>Mirrors the Keras 2.0.4 definition the weights were saved from: every convolution uses
 * TF 'same' padding (for stride 2 on an even size TF pads 0 before and 1 after; DL4J's
 * {@link ConvolutionMode#Same} computes the same split), has no bias and is followed by
 * BatchNormalization (eps 1e-3, variance parameter) and ReLU6. ReLU6 is a layer of its own:
 * DL4J's BatchNormalization layer ignores its activation function in inference.
 *
 * <p>Convolutions and batch norms are {@link KerasConv2D}, {@link KerasDepthwiseConv2D} and
 * {@link KerasBatchNormalization}: DL4J's layers with a faster forward pass. Input: RGB scaled
 * to [-1, 1]. Not thread-safe.
 */
public final class MobileNetV1Base extends GraphImageBase {

  public static final String ID = "mobilenet_v1_0.25";
  /** Default input side (an id {@code ID@<size>} sets another, see {@link Bases#inputSize}). */
  public static final int INPUT_SIZE = 224;
  static final int FEATURES = 256;
  /** Parameter count of the weights file and of the graph; checked on load. */
  public static final long PARAMS = 218_544L;

  /** Output channels of conv1 and of the 13 pointwise convolutions, for alpha 0.25. */
  private static final int[] CHANNELS = {8, 16, 32, 32, 64, 64, 128, 128, 128, 128, 128, 128,
      256, 256};
  /** Stride of the depthwise convolution of blocks 1..13 (index 0 unused). */
  private static final int[] DW_STRIDE = {0, 1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1};
  private static final double BN_EPS = 1e-3;

  /** Blocks a fine-tuned MobileNet may train: its last one or two. */
  static final int MAX_TAIL_BLOCKS = 2;

  /** 0, or the number of last blocks this instance leaves out (see {@link #idWithTail}). */
  private final int tailBlocks;

  private MobileNetV1Base(ComputationGraph graph, int inputSize, int tailBlocks) {
    super(idWithTail(inputSize, tailBlocks), graph, Preprocessing.plusMinusOne(inputSize), featureSize(inputSize, tailBlocks));
    this.tailBlocks = tailBlocks;
  }

  /**
   * The id of the base without its last {@code tailBlocks} blocks ({@code ID@tail<k>}), whose
   * "features" are the activations entering those blocks, flattened in NCHW order: what a
   * fine-tuned model's trainable tail takes. The base id itself for 0; {@code ID@<size>...} at
   * another input size.
   */
  public static String idWithTail(int inputSize, int tailBlocks) {
    String id = Bases.idWithSize(ID, inputSize);
    return tailBlocks == 0 ? id : id + Bases.TAIL + tailBlocks;
  }

  /** Fails unless a base id may leave out {@code tailBlocks} last blocks of MobileNet. */
  public static void checkTail(int tailBlocks) {
    if (tailBlocks < 1 || tailBlocks > MAX_TAIL_BLOCKS) {
      throw new IllegalArgumentException(
          "MobileNet can leave out its last 1 to " + MAX_TAIL_BLOCKS + " blocks, not " + tailBlocks);
    }
  }

  /**
   * Channels, height and width of the activation entering the last {@code tailBlocks} blocks at
   * an input size ('same' padding: each stride-2 layer takes the ceiling of half the side).
   */
  static int[] tailInputShape(int inputSize, int tailBlocks) {
    checkTail(tailBlocks);
    int block = 14 - tailBlocks; // first block of the tail
    int side = (inputSize + 1) / 2; // after conv1
    for (int i = 1; i < block; i++) {
      side = (side + DW_STRIDE[i] - 1) / DW_STRIDE[i];
    }
    return new int[] {CHANNELS[block - 1], side, side};
  }

  /** Output channels of block {@code block} (0: conv1). */
  static int channels(int block) {
    return CHANNELS[block];
  }

  /** Stride of block {@code block}'s depthwise convolution (1..13). */
  static int dwStride(int block) {
    return DW_STRIDE[block];
  }

  /** Feature length at an input side without the last {@code tailBlocks} blocks (0: whole). */
  public static int featureSize(int inputSize, int tailBlocks) {
    if (tailBlocks == 0) {
      return FEATURES;
    }
    int[] shape = tailInputShape(inputSize, tailBlocks);
    return shape[0] * shape[1] * shape[2];
  }

  /** {@link Bases.KerasBuilder}: the pretrained network at {@code inputSize}, without its last {@code tailBlocks} blocks (0: whole). */
  static MobileNetV1Base build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      checkTail(tailBlocks);
    }
    return new MobileNetV1Base(pretrainedGraph(weights, inputSize), inputSize, tailBlocks);
  }

  @Override
  public float[][] forward(float[] nchw, int n) {
    return tailBlocks == 0 ? super.forward(nchw, n) : activationsOf("conv_pw_" + (13 - tailBlocks) + "_relu", nchw, n);
  }


  /** Builds the network at the default size and copies in the pretrained weights, verifying that all match. */
  static MobileNetV1Base fromWeights(KerasWeights weights) {
    return build(weights, INPUT_SIZE, 0);
  }

  private static ComputationGraph pretrainedGraph(KerasWeights weights, int inputSize) {
    ComputationGraph graph = newGraph(12345L, inputSize);
    weights.copyConv(graph, "conv1");
    weights.copyBatchNorm(graph, "conv1_bn");
    for (int i = 1; i <= 13; i++) {
      weights.copyDepthwise(graph, "conv_dw_" + i);
      weights.copyBatchNorm(graph, "conv_dw_" + i + "_bn");
      weights.copyConv(graph, "conv_pw_" + i);
      weights.copyBatchNorm(graph, "conv_pw_" + i + "_bn");
    }
    weights.verify(graph, PARAMS);
    return graph;
  }

  /** Same architecture with random weights: a baseline that tests compare against. */
  static MobileNetV1Base randomlyInitialised(long seed) {
    return new MobileNetV1Base(newGraph(seed, INPUT_SIZE), INPUT_SIZE, 0);
  }

  private static ComputationGraph newGraph(long seed, int inputSize) {
    ComputationGraphConfiguration.GraphBuilder g = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .weightInit(WeightInit.XAVIER)
        .activation(Activation.IDENTITY)
        .convolutionMode(ConvolutionMode.Same)
        .graphBuilder()
        .addInputs("input")
        .setInputTypes(InputType.convolutional(inputSize, inputSize, 3));

    g.addLayer("conv1", KerasConv2D.of(3, CHANNELS[0], 3, 2, true, false), "input");
    String last = batchNormRelu6(g, "conv1", CHANNELS[0]);
    for (int i = 1; i <= 13; i++) {
      int in = CHANNELS[i - 1];
      g.addLayer("conv_dw_" + i, KerasDepthwiseConv2D.same(in, 3, DW_STRIDE[i]), last);
      last = batchNormRelu6(g, "conv_dw_" + i, in);
      g.addLayer("conv_pw_" + i, KerasConv2D.of(in, CHANNELS[i], 1, 1, true, false), last);
      last = batchNormRelu6(g, "conv_pw_" + i, CHANNELS[i]);
    }
    g.addLayer("avg_pool", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
    g.setOutputs("avg_pool");

    ComputationGraph graph = new ComputationGraph(g.build());
    graph.init();
    return graph;
  }

  /** Adds {@code <conv>_bn} and {@code <conv>_relu} after a convolution; returns the latter. */
  private static String batchNormRelu6(ComputationGraphConfiguration.GraphBuilder g, String conv,
      int channels) {
    g.addLayer(conv + "_bn", KerasBatchNormalization.of(channels, BN_EPS), conv);
    g.addLayer(conv + "_relu", new ActivationLayer(Activation.RELU6), conv + "_bn");
    return conv + "_relu";
  }
}
