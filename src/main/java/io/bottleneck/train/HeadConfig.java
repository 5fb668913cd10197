package io.bottleneck.train;

import java.util.List;

/**
 * Hyper-parameters of the classification head and of its distributed training.
 *
 * @param hiddenUnits sizes of the hidden ReLU layers, input side first; empty means a softmax
 *     layer directly on the features
 * @param dropout fraction of activations DROPPED after each hidden layer (Keras meaning; DL4J's
 *     {@code dropOut(x)} takes the retain probability {@code 1 - dropout})
 * @param learningRate initial Adam learning rate
 * @param l2 L2 coefficient on weights (not biases), added to the gradient as {@code l2 * w}
 * @param epochs maximum number of passes over the training set
 * @param batchSizePerWorker examples in one worker mini-batch
 * @param averagingFrequency mini-batches each worker fits between two parameter averagings
 * @param seed weight initialisation and per-epoch shuffles
 * @param earlyStoppingPatience epochs without improvement of the validation loss before training
 *     stops
 * @param earlyStoppingMinDelta smallest decrease of the validation loss that counts as an
 *     improvement (for early stopping and for the learning-rate plateau)
 * @param restoreBestWeights when true the returned network has the weights of the epoch with the
 *     lowest validation loss, otherwise those of the last epoch
 * @param reduceLrPatience epochs without improvement before the learning rate is reduced
 * @param reduceLrFactor factor applied to the learning rate on a plateau, in (0, 1)
 * @param minLearningRate the learning rate is never reduced below this
 */
public record HeadConfig(
    List<Integer> hiddenUnits,
    double dropout,
    double learningRate,
    double l2,
    int epochs,
    int batchSizePerWorker,
    int averagingFrequency,
    long seed,
    int earlyStoppingPatience,
    double earlyStoppingMinDelta,
    boolean restoreBestWeights,
    int reduceLrPatience,
    double reduceLrFactor,
    double minLearningRate) {

  public HeadConfig {
    if (hiddenUnits == null) {
      throw new IllegalArgumentException("hiddenUnits must not be null");
    }
    for (Integer units : hiddenUnits) {
      if (units == null || units < 1) {
        throw new IllegalArgumentException(
            "hiddenUnits must all be >= 1 but was " + hiddenUnits);
      }
    }
    hiddenUnits = List.copyOf(hiddenUnits);
    // The !(x >= a) form also rejects NaN.
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("dropout must be in [0, 1) but was " + dropout);
    }
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learningRate must be > 0 but was " + learningRate);
    }
    if (!(l2 >= 0) || Double.isInfinite(l2)) {
      throw new IllegalArgumentException("l2 must be >= 0 but was " + l2);
    }
    requireAtLeast("epochs", epochs, 1);
    requireAtLeast("batchSizePerWorker", batchSizePerWorker, 1);
    requireAtLeast("averagingFrequency", averagingFrequency, 1);
    requireAtLeast("earlyStoppingPatience", earlyStoppingPatience, 0);
    if (!(earlyStoppingMinDelta >= 0) || Double.isInfinite(earlyStoppingMinDelta)) {
      throw new IllegalArgumentException(
          "earlyStoppingMinDelta must be >= 0 but was " + earlyStoppingMinDelta);
    }
    requireAtLeast("reduceLrPatience", reduceLrPatience, 0);
    if (!(reduceLrFactor > 0 && reduceLrFactor < 1)) {
      throw new IllegalArgumentException(
          "reduceLrFactor must be in (0, 1) but was " + reduceLrFactor);
    }
    if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
      throw new IllegalArgumentException(
          "minLearningRate must be in [0, learningRate] = [0, " + learningRate + "] but was "
              + minLearningRate);
    }
  }

  /** The defaults of the job configuration. */
  public static HeadConfig defaults() {
    return new HeadConfig(
        List.of(256), 0.5, 1e-3, 1e-4, 30, 32, 10, 42L, 5, 1e-3, true, 2, 0.5, 1e-5);
  }

  private static void requireAtLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
    }
  }

  public HeadConfig withHiddenUnits(List<Integer> v) {
    return new HeadConfig(v, dropout, learningRate, l2, epochs, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withDropout(double v) {
    return new HeadConfig(hiddenUnits, v, learningRate, l2, epochs, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withLearningRate(double v) {
    return new HeadConfig(hiddenUnits, dropout, v, l2, epochs, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withL2(double v) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, v, epochs, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withEpochs(int v) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, v, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withBatchSizePerWorker(int v) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, epochs, v,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withAveragingFrequency(int v) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, epochs, batchSizePerWorker,
        v, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  public HeadConfig withSeed(long v) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, epochs, batchSizePerWorker,
        averagingFrequency, v, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  /** Early stopping: patience, min delta and whether the best weights are restored. */
  public HeadConfig withEarlyStopping(int patience, double minDelta, boolean restoreBest) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, epochs, batchSizePerWorker,
        averagingFrequency, seed, patience, minDelta,
        restoreBest, reduceLrPatience, reduceLrFactor, minLearningRate);
  }

  /** Reduction of the learning rate on a validation-loss plateau. */
  public HeadConfig withReduceLr(int patience, double factor, double minLr) {
    return new HeadConfig(hiddenUnits, dropout, learningRate, l2, epochs, batchSizePerWorker,
        averagingFrequency, seed, earlyStoppingPatience, earlyStoppingMinDelta,
        restoreBestWeights, patience, factor, minLr);
  }
}
