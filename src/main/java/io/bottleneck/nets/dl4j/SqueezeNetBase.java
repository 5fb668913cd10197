package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.SqueezeNet;
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

  private static final SqueezeNet ARCHITECTURE = new SqueezeNet();

  /** 0, 1 or 2: this instance stops at fire(10 - k)'s squeeze output (see {@link SqueezeNet}). */
  private final int tailBlocks;

  private SqueezeNetBase(ComputationGraph graph, int inputSize, int tailBlocks) {
    super(ARCHITECTURE.idWithTail(inputSize, tailBlocks), graph, ARCHITECTURE.preprocessing(inputSize),
        ARCHITECTURE.featureSize(inputSize, tailBlocks));
    this.tailBlocks = tailBlocks;
  }

  /**
   * {@link io.bottleneck.nets.Engine.KerasBuilder}: the pretrained network at {@code inputSize},
   * without a tail of {@code tailBlocks} (0: whole; 1: up to fire9's squeeze layer, whose output,
   * 13x13x64 at 227 flattened NCHW, feeds the expand convolutions a fine-tuned model trains; 2:
   * up to fire8's squeeze layer).
   */
  public static SqueezeNetBase build(KerasWeights weights, int inputSize, int tailBlocks) {
    if (tailBlocks != 0) {
      ARCHITECTURE.checkTail(tailBlocks);
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
    return build(weights, SqueezeNet.INPUT_SIZE, 0);
  }

  private static ComputationGraph pretrainedGraph(KerasWeights weights, int inputSize) {
    ComputationGraph graph = newGraph(12345L, inputSize);
    weights.copyConv(graph, "conv1");
    for (int[] fire : SqueezeNet.fires()) {
      String f = "fire" + fire[0] + "/";
      weights.copyConv(graph, f + "squeeze1x1");
      weights.copyConv(graph, f + "expand1x1");
      weights.copyConv(graph, f + "expand3x3");
    }
    weights.verify(graph, SqueezeNet.PARAMS);
    return graph;
  }

  /** Same architecture with random weights: a baseline that tests compare against. */
  static SqueezeNetBase randomlyInitialised(long seed) {
    return new SqueezeNetBase(newGraph(seed, SqueezeNet.INPUT_SIZE), SqueezeNet.INPUT_SIZE, 0);
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
    for (int[] fire : SqueezeNet.fires()) {
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
