package io.bottleneck.train;

import java.util.Arrays;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/**
 * The classification head as a DL4J network: its layers from a {@link HeadConfig}, the optimizer
 * and the (class-weighted) loss. Apart from {@link HeadTrainer} because the network is built
 * outside training too: the benchmark's single-threaded fit, and fine-tuning and training from
 * scratch ({@link FineTuning}, {@link ScratchCnn}) reuse the optimizer and the loss.
 */
public final class HeadNetwork {
  private HeadNetwork() {}

  /**
   * {@link #build(int, int, HeadConfig, double[])} with the class weights resolved for
   * equal class counts: "balanced" is then the unweighted loss, explicit weights are used as
   * given.
   */
  public static MultiLayerNetwork build(int inputSize, int numClasses, HeadConfig config) {
    long[] equalCounts = new long[numClasses];
    Arrays.fill(equalCounts, 1);
    return build(inputSize, numClasses, config, config.classWeights().resolve(equalCounts));
  }

  /**
   * Per hidden size Dense(relu), or with batch norm Dense(identity, no bias) -> BatchNormalization
   * -> ReLU (the original paper's placement, on the pre-activations; BN's beta takes the place of
   * the bias), then Dropout when configured; then softmax with cross-entropy (MCXENT), weighted
   * per class when {@code lossWeights} is not null. The optimizer, L2 on weights, He init for ReLU
   * layers and Xavier for the output, all seeded.
   *
   * <p>BatchNormalization keeps its running mean and (log) standard deviation among the network's
   * parameters, updated by a no-op updater outside the learning rate and without L2: parameter
   * averaging averages them with the weights, the snapshots and {@link EpochMetrics} carry them in
   * the flat parameter vector, and inference ({@code output(x, false)}) normalizes with them.
   *
   * @param lossWeights one weight per class for the training loss, or null for the plain
   *     cross-entropy
   */
  public static MultiLayerNetwork build(
      int inputSize, int numClasses, HeadConfig config, double[] lossWeights) {
    NeuralNetConfiguration.ListBuilder layers =
        new NeuralNetConfiguration.Builder()
            .seed(config.seed())
            .dataType(DataType.FLOAT)
            .updater(updater(config.optimizer(), config.learningRate()))
            .l2(config.l2())
            .list();
    int in = inputSize;
    for (int units : config.hiddenUnits()) {
      if (config.batchNorm()) {
        layers.layer(
            new DenseLayer.Builder()
                .nIn(in)
                .nOut(units)
                .activation(Activation.IDENTITY)
                .hasBias(false)
                .weightInit(WeightInit.RELU)
                .build());
        layers.layer(new BatchNormalization.Builder().nIn(units).nOut(units).build());
        layers.layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
      } else {
        layers.layer(
            new DenseLayer.Builder()
                .nIn(in)
                .nOut(units)
                .activation(Activation.RELU)
                .weightInit(WeightInit.RELU)
                .build());
      }
      if (config.dropout() > 0) {
        // DL4J takes the probability of RETAINING an activation.
        layers.layer(new DropoutLayer.Builder(1.0 - config.dropout()).nIn(units).nOut(units).build());
      }
      in = units;
    }
    layers.layer(
        new OutputLayer.Builder(lossFunction(lossWeights, numClasses))
            .activation(Activation.SOFTMAX)
            .nIn(in)
            .nOut(numClasses)
            .weightInit(WeightInit.XAVIER)
            .build());
    MultiLayerNetwork net = new MultiLayerNetwork(layers.build());
    net.init();
    return net;
  }

  /**
   * Cross-entropy, weighted per class when weights are given. Only training uses it: the losses
   * that {@link EpochMetrics} reports (and early stopping, the plateau and the search compare)
   * are the unweighted cross-entropy, so val_loss means the same whatever the class weights.
   */
  static LossMCXENT lossFunction(double[] lossWeights, int numClasses) {
    if (lossWeights == null) {
      return new LossMCXENT();
    }
    if (lossWeights.length != numClasses) {
      throw new IllegalArgumentException(
          "lossWeights has " + lossWeights.length + " values but there are " + numClasses
              + " classes");
    }
    float[] w = new float[numClasses];
    for (int c = 0; c < numClasses; c++) {
      w[c] = (float) lossWeights[c];
    }
    return new LossMCXENT(Nd4j.create(w, new long[] {1, numClasses}, DataType.FLOAT));
  }

  /** The updater for an optimizer name of {@link HeadConfig#OPTIMIZERS}. */
  static IUpdater updater(String optimizer, double learningRate) {
    switch (optimizer) {
      case "adam":
        return new Adam(learningRate);
      case "nadam":
        return new Nadam(learningRate);
      case "amsgrad":
        return new AMSGrad(learningRate);
      case "sgd":
        return new Sgd(learningRate);
      case "nesterov":
        return new Nesterovs(learningRate, 0.9);
      case "rmsprop":
        return new RmsProp(learningRate);
      default:
        throw new IllegalArgumentException(
            "optimizer must be one of " + String.join(", ", HeadConfig.OPTIMIZERS) + " but was "
                + optimizer);
    }
  }
}
