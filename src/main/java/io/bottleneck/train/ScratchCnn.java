package io.bottleneck.train;

import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A small CNN trained from scratch on raw pixels (the pseudo-base {@code pixels<size>}), the
 * Keras tutorials' baseline before transfer learning: per entry of {@code filters} a block of
 * 3x3 convolution, batch normalization, ReLU and 2x2 max-pooling; then global average pooling,
 * the head's hidden Dense layers with dropout, and softmax. Trained like the head, with
 * {@code SparkDl4jMultiLayer} parameter averaging; far slower per image than a head on cached
 * features, and far less accurate on small data sets.
 */
public final class ScratchCnn {
  private ScratchCnn() {}

  /**
   * @param size side of the square NCHW pixel input
   * @param filters output channels of the convolution blocks, input side first
   * @param lossWeights per-class loss weights, or null
   */
  public static MultiLayerNetwork network(
      int size, List<Integer> filters, int numClasses, HeadConfig config, double[] lossWeights) {
    if (filters.isEmpty() || filters.stream().anyMatch(f -> f == null || f < 1)) {
      throw new IllegalArgumentException("filters must be positive channel counts but was " + filters);
    }
    if (size >> filters.size() < 1) {
      throw new IllegalArgumentException(
          filters.size() + " pooling blocks do not fit an input of " + size + " pixels");
    }
    NeuralNetConfiguration.ListBuilder layers =
        new NeuralNetConfiguration.Builder()
            .seed(config.seed())
            .dataType(DataType.FLOAT)
            .updater(HeadNetwork.updater(config.optimizer(), config.learningRate()))
            .l2(config.l2())
            .weightInit(WeightInit.RELU)
            .list();
    for (int f : filters) {
      layers.layer(new ConvolutionLayer.Builder(3, 3)
          .nOut(f)
          .convolutionMode(ConvolutionMode.Same)
          .hasBias(false) // batch norm's beta is the bias
          .activation(Activation.IDENTITY)
          .build());
      layers.layer(new BatchNormalization.Builder().nOut(f).build());
      layers.layer(new ActivationLayer(Activation.RELU));
      layers.layer(new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build());
    }
    layers.layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build());
    int in = filters.get(filters.size() - 1);
    for (int units : config.hiddenUnits()) {
      if (config.dropout() > 0) {
        layers.layer(new DropoutLayer.Builder(1.0 - config.dropout()).nIn(in).nOut(in).build());
      }
      layers.layer(new DenseLayer.Builder().nIn(in).nOut(units).activation(Activation.RELU).build());
      in = units;
    }
    if (config.dropout() > 0) {
      layers.layer(new DropoutLayer.Builder(1.0 - config.dropout()).nIn(in).nOut(in).build());
    }
    layers.layer(new OutputLayer.Builder(HeadNetwork.lossFunction(lossWeights, numClasses))
        .activation(Activation.SOFTMAX)
        .nIn(in)
        .nOut(numClasses)
        .weightInit(WeightInit.XAVIER)
        .build());
    layers.setInputType(InputType.convolutionalFlat(size, size, 3));
    MultiLayerNetwork net = new MultiLayerNetwork(layers.build());
    net.init();
    return net;
  }
}
