package io.bottleneck.train;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * Hyper-parameters of the classification head and of its distributed training.
 *
 * @param hiddenUnits sizes of the hidden ReLU layers, input side first; empty means a softmax
 *     layer directly on the features
 * @param dropout fraction of activations DROPPED after each hidden layer (Keras meaning; DL4J's
 *     {@code dropOut(x)} takes the retain probability {@code 1 - dropout})
 * @param learningRate initial learning rate of the optimizer
 * @param l2 L2 coefficient on weights (not biases), added to the gradient as {@code l2 * w}
 * @param batchNorm whether each hidden layer is Dense (no bias, identity) -> BatchNormalization ->
 *     ReLU, before its dropout
 * @param optimizer one of {@link #OPTIMIZERS}: adam, nadam, amsgrad, sgd (plain), nesterov (SGD
 *     with Nesterov momentum 0.9) or rmsprop, each with DL4J's defaults for everything but the
 *     learning rate
 * @param classWeights how the training loss weighs the classes; the reported losses stay
 *     unweighted
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
    boolean batchNorm,
    String optimizer,
    ClassWeights classWeights,
    int epochs,
    int batchSizePerWorker,
    int averagingFrequency,
    long seed,
    int earlyStoppingPatience,
    double earlyStoppingMinDelta,
    boolean restoreBestWeights,
    int reduceLrPatience,
    double reduceLrFactor,
    double minLearningRate) implements Serializable {

  /** The optimizer names {@link #optimizer} accepts. */
  public static final List<String> OPTIMIZERS =
      List.of("adam", "nadam", "amsgrad", "sgd", "nesterov", "rmsprop");

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
    if (optimizer == null || !OPTIMIZERS.contains(optimizer)) {
      throw new IllegalArgumentException(
          "optimizer must be one of " + String.join(", ", OPTIMIZERS) + " but was " + optimizer);
    }
    Objects.requireNonNull(classWeights, "classWeights");
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
        List.of(256), 0.5, 1e-3, 1e-4, false, "adam", ClassWeights.NONE,
        30, 32, 10, 42L, 5, 1e-3, true, 2, 0.5, 1e-5);
  }

  private static void requireAtLeast(String name, int value, int min) {
    if (value < min) {
      throw new IllegalArgumentException(name + " must be >= " + min + " but was " + value);
    }
  }

  /** A builder holding this configuration's values; {@link Builder#build()} validates. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  public HeadConfig withHiddenUnits(List<Integer> v) {
    return toBuilder().hiddenUnits(v).build();
  }

  public HeadConfig withDropout(double v) {
    return toBuilder().dropout(v).build();
  }

  public HeadConfig withLearningRate(double v) {
    return toBuilder().learningRate(v).build();
  }

  public HeadConfig withL2(double v) {
    return toBuilder().l2(v).build();
  }

  public HeadConfig withBatchNorm(boolean v) {
    return toBuilder().batchNorm(v).build();
  }

  public HeadConfig withOptimizer(String v) {
    return toBuilder().optimizer(v).build();
  }

  public HeadConfig withClassWeights(ClassWeights v) {
    return toBuilder().classWeights(v).build();
  }

  public HeadConfig withEpochs(int v) {
    return toBuilder().epochs(v).build();
  }

  public HeadConfig withBatchSizePerWorker(int v) {
    return toBuilder().batchSizePerWorker(v).build();
  }

  public HeadConfig withAveragingFrequency(int v) {
    return toBuilder().averagingFrequency(v).build();
  }

  public HeadConfig withSeed(long v) {
    return toBuilder().seed(v).build();
  }

  /** Early stopping: patience, min delta and whether the best weights are restored. */
  public HeadConfig withEarlyStopping(int patience, double minDelta, boolean restoreBest) {
    return toBuilder()
        .earlyStoppingPatience(patience)
        .earlyStoppingMinDelta(minDelta)
        .restoreBestWeights(restoreBest)
        .build();
  }

  /** Reduction of the learning rate on a validation-loss plateau. */
  public HeadConfig withReduceLr(int patience, double factor, double minLr) {
    return toBuilder()
        .reduceLrPatience(patience)
        .reduceLrFactor(factor)
        .minLearningRate(minLr)
        .build();
  }

  /** Mutable copy of a {@link HeadConfig}; setters named after the components. */
  public static final class Builder {
    private List<Integer> hiddenUnits;
    private double dropout;
    private double learningRate;
    private double l2;
    private boolean batchNorm;
    private String optimizer;
    private ClassWeights classWeights;
    private int epochs;
    private int batchSizePerWorker;
    private int averagingFrequency;
    private long seed;
    private int earlyStoppingPatience;
    private double earlyStoppingMinDelta;
    private boolean restoreBestWeights;
    private int reduceLrPatience;
    private double reduceLrFactor;
    private double minLearningRate;

    private Builder(HeadConfig c) {
      hiddenUnits = c.hiddenUnits;
      dropout = c.dropout;
      learningRate = c.learningRate;
      l2 = c.l2;
      batchNorm = c.batchNorm;
      optimizer = c.optimizer;
      classWeights = c.classWeights;
      epochs = c.epochs;
      batchSizePerWorker = c.batchSizePerWorker;
      averagingFrequency = c.averagingFrequency;
      seed = c.seed;
      earlyStoppingPatience = c.earlyStoppingPatience;
      earlyStoppingMinDelta = c.earlyStoppingMinDelta;
      restoreBestWeights = c.restoreBestWeights;
      reduceLrPatience = c.reduceLrPatience;
      reduceLrFactor = c.reduceLrFactor;
      minLearningRate = c.minLearningRate;
    }

    public Builder hiddenUnits(List<Integer> v) {
      hiddenUnits = v;
      return this;
    }

    public Builder dropout(double v) {
      dropout = v;
      return this;
    }

    public Builder learningRate(double v) {
      learningRate = v;
      return this;
    }

    public Builder l2(double v) {
      l2 = v;
      return this;
    }

    public Builder batchNorm(boolean v) {
      batchNorm = v;
      return this;
    }

    public Builder optimizer(String v) {
      optimizer = v;
      return this;
    }

    public Builder classWeights(ClassWeights v) {
      classWeights = v;
      return this;
    }

    public Builder epochs(int v) {
      epochs = v;
      return this;
    }

    public Builder batchSizePerWorker(int v) {
      batchSizePerWorker = v;
      return this;
    }

    public Builder averagingFrequency(int v) {
      averagingFrequency = v;
      return this;
    }

    public Builder seed(long v) {
      seed = v;
      return this;
    }

    public Builder earlyStoppingPatience(int v) {
      earlyStoppingPatience = v;
      return this;
    }

    public Builder earlyStoppingMinDelta(double v) {
      earlyStoppingMinDelta = v;
      return this;
    }

    public Builder restoreBestWeights(boolean v) {
      restoreBestWeights = v;
      return this;
    }

    public Builder reduceLrPatience(int v) {
      reduceLrPatience = v;
      return this;
    }

    public Builder reduceLrFactor(double v) {
      reduceLrFactor = v;
      return this;
    }

    public Builder minLearningRate(double v) {
      minLearningRate = v;
      return this;
    }

    /** The configuration, validated as by the record's constructor. */
    public HeadConfig build() {
      return new HeadConfig(
          hiddenUnits, dropout, learningRate, l2, batchNorm, optimizer, classWeights, epochs,
          batchSizePerWorker, averagingFrequency, seed, earlyStoppingPatience,
          earlyStoppingMinDelta, restoreBestWeights, reduceLrPatience, reduceLrFactor,
          minLearningRate);
    }
  }
}
