package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.MobileNetV1;
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

  private static final MobileNetV1 ARCHITECTURE = new MobileNetV1();
  private static final double BN_EPS = 1e-3;

  /** 0, or the number of last blocks this instance leaves out (see {@link MobileNetV1#idWithTail}). */
  private final int tailBlocks;

  private MobileNetV1Base(ComputationGraph graph, int inputSize, int tailBlocks) {
    super(ARCHITECTURE.idWithTail(inputSize, tailBlocks), graph, ARCHITECTURE.preprocessing(inputSize),
        ARCHITECTURE.featureSize(inputSize, tailBlocks));
    this.tailBlocks = tailBlocks;
  }

  /** {@link io.bottleneck.nets.Engine.KerasBuilder}: the pretrained network at {@code inputSize}, without its last {@code tailBlocks} blocks (0: whole). */
  public static MobileNetV1Base build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      ARCHITECTURE.checkTail(tailBlocks);
    }
    return new MobileNetV1Base(pretrainedGraph(weights, inputSize), inputSize, tailBlocks);
  }

  @Override
  public float[][] forward(float[] nchw, int n) {
    return tailBlocks == 0 ? super.forward(nchw, n) : activationsOf("conv_pw_" + (13 - tailBlocks) + "_relu", nchw, n);
  }


  /** Builds the network at the default size and copies in the pretrained weights, verifying that all match. */
  static MobileNetV1Base fromWeights(KerasWeights weights) {
    return build(weights, MobileNetV1.INPUT_SIZE, 0);
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
    weights.verify(graph, MobileNetV1.PARAMS);
    return graph;
  }

  /** Same architecture with random weights: a baseline that tests compare against. */
  static MobileNetV1Base randomlyInitialised(long seed) {
    return new MobileNetV1Base(newGraph(seed, MobileNetV1.INPUT_SIZE), MobileNetV1.INPUT_SIZE, 0);
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

    g.addLayer("conv1", KerasConv2D.of(3, MobileNetV1.channels(0), 3, 2, true, false), "input");
    String last = batchNormRelu6(g, "conv1", MobileNetV1.channels(0));
    for (int i = 1; i <= 13; i++) {
      int in = MobileNetV1.channels(i - 1);
      g.addLayer("conv_dw_" + i, KerasDepthwiseConv2D.same(in, 3, MobileNetV1.dwStride(i)), last);
      last = batchNormRelu6(g, "conv_dw_" + i, in);
      g.addLayer("conv_pw_" + i, KerasConv2D.of(in, MobileNetV1.channels(i), 1, 1, true, false), last);
      last = batchNormRelu6(g, "conv_pw_" + i, MobileNetV1.channels(i));
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
