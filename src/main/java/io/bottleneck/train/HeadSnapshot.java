package io.bottleneck.train;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A head as plain serializable data (configuration JSON + parameter bytes), for broadcasting to
 * executors. Holding no ND4J objects keeps it independent of the Spark serializer, and each task
 * restores its own network because {@link MultiLayerNetwork} is not safe to share between threads.
 */
public final class HeadSnapshot implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String configurationJson;
  /** {@link Nd4j#toByteArray}: keeps data type and shape of the flattened parameters. */
  private final byte[] parameters;
  private final int inputSize;
  private final int numClasses;

  private HeadSnapshot(String configurationJson, byte[] parameters, int inputSize, int numClasses) {
    this.configurationJson = configurationJson;
    this.parameters = parameters;
    this.inputSize = inputSize;
    this.numClasses = numClasses;
  }

  /** Copies configuration and current parameters; later training does not change the copy. */
  public static HeadSnapshot of(MultiLayerNetwork network) {
    int layers = network.getnLayers();
    if (layers < 1) {
      throw new IllegalArgumentException("The head has no layers.");
    }
    int inputSize = inputLength(network);
    if (inputSize < 1) {
      throw new IllegalArgumentException(
          "The head's first layer has no known input size; it must be a feed-forward layer.");
    }
    int numClasses = network.layerSize(layers - 1);
    try {
      return new HeadSnapshot(
          network.getLayerWiseConfigurations().toJson(),
          Nd4j.toByteArray(network.params()),
          inputSize,
          numClasses);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the head's parameters", e);
    }
  }

  /**
   * Length of the flat vectors the network takes: its first layer's input size, or for a
   * network that starts with convolutions on flat input (a fine-tuned tail, a CNN from scratch)
   * height x width x channels of the image its preprocessor reshapes them to.
   */
  static int inputLength(MultiLayerNetwork network) {
    InputPreProcessor first = network.getLayerWiseConfigurations().getInputPreProcess(0);
    if (first instanceof FeedForwardToCnnPreProcessor cnn) {
      return Math.toIntExact(cnn.getInputHeight() * cnn.getInputWidth() * cnn.getNumChannels());
    }
    return network.layerInputSize(0);
  }

  /** A new network with the snapshot's configuration and parameters. */
  public MultiLayerNetwork restore() {
    MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(configurationJson);
    MultiLayerNetwork network = new MultiLayerNetwork(conf);
    INDArray params = Nd4j.fromByteArray(parameters);
    network.init(params, false);
    return network;
  }

  /** Length of the feature vectors the head takes. */
  public int inputSize() {
    return inputSize;
  }

  /** Width of the softmax output. */
  public int numClasses() {
    return numClasses;
  }
}
