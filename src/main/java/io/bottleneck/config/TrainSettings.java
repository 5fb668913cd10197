package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import io.bottleneck.train.ClassWeights;
import io.bottleneck.train.HeadConfig;
import java.util.List;

/**
 * The train.* keys, read and checked key by key (so that a message names the key), and the
 * {@link HeadConfig} the head trainer takes, built from them.
 *
 * @param batchSize train.batch-size, per worker
 * @param head the values above with the training seed, as the head trainer takes them
 */
record TrainSettings(
    int epochs,
    List<Integer> hiddenUnits,
    double dropout,
    double learningRate,
    double l2,
    int batchSize,
    int averagingFrequency,
    int earlyStoppingPatience,
    double earlyStoppingMinDelta,
    boolean restoreBestWeights,
    int reduceLrPatience,
    double reduceLrFactor,
    double minLearningRate,
    boolean batchNorm,
    String optimizer,
    ClassWeights classWeights,
    HeadConfig head) {

  /** @param seed the training seed (train.seed, default split.seed) */
  static TrainSettings read(ConfigValues v, long seed) {
    int epochs = v.positive("train.epochs");
    List<Integer> hiddenUnits = v.intList("train.hidden-units");
    double dropout = v.number("train.dropout");
    if (!(dropout >= 0 && dropout < 1)) {
      throw invalid("train.dropout", dropout, "in [0, 1)");
    }
    double learningRate = v.positiveNumber("train.learning-rate");
    double l2 = v.number("train.l2");
    if (!(l2 >= 0)) {
      throw invalid("train.l2", l2, ">= 0");
    }
    int batchSize = v.positive("train.batch-size");
    int averagingFrequency = v.positive("train.averaging-frequency");
    int earlyStoppingPatience = v.atLeast("train.early-stopping.patience", 0);
    double earlyStoppingMinDelta = v.number("train.early-stopping.min-delta");
    if (!(earlyStoppingMinDelta >= 0)) {
      throw invalid("train.early-stopping.min-delta", earlyStoppingMinDelta, ">= 0");
    }
    boolean restoreBestWeights = v.bool("train.early-stopping.restore-best-weights");
    int reduceLrPatience = v.atLeast("train.reduce-lr.patience", 0);
    double reduceLrFactor = v.number("train.reduce-lr.factor");
    if (!(reduceLrFactor > 0 && reduceLrFactor < 1)) {
      throw invalid("train.reduce-lr.factor", reduceLrFactor, "in (0, 1)");
    }
    double minLearningRate = v.number("train.reduce-lr.min-lr");
    if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
      // a floor above the starting rate would make the first reduction raise the rate
      throw invalid("train.reduce-lr.min-lr", minLearningRate,
          ">= 0 and at most train.learning-rate (" + learningRate + ")");
    }
    boolean batchNorm = v.bool("train.batch-norm");
    String optimizer = v.string("train.optimizer");
    if (!HeadConfig.OPTIMIZERS.contains(optimizer)) {
      throw invalid("train.optimizer", optimizer, "one of " + String.join(", ", HeadConfig.OPTIMIZERS));
    }
    ClassWeights classWeights = v.classWeights("train.class-weights");
    HeadConfig head;
    // HeadConfig's own checks are the safety net behind the checks above
    try {
      head = HeadConfig.defaults().toBuilder()
          .hiddenUnits(hiddenUnits)
          .dropout(dropout)
          .learningRate(learningRate)
          .l2(l2)
          .batchNorm(batchNorm)
          .optimizer(optimizer)
          .classWeights(classWeights)
          .epochs(epochs)
          .batchSizePerWorker(batchSize)
          .averagingFrequency(averagingFrequency)
          .seed(seed)
          .earlyStoppingPatience(earlyStoppingPatience)
          .earlyStoppingMinDelta(earlyStoppingMinDelta)
          .restoreBestWeights(restoreBestWeights)
          .reduceLrPatience(reduceLrPatience)
          .reduceLrFactor(reduceLrFactor)
          .minLearningRate(minLearningRate)
          .build();
    } catch (IllegalArgumentException e) {
      throw new ConfigError("Cannot use the train.* values: " + e.getMessage(), e);
    }
    return new TrainSettings(
        epochs, hiddenUnits, dropout, learningRate, l2, batchSize, averagingFrequency,
        earlyStoppingPatience, earlyStoppingMinDelta, restoreBestWeights, reduceLrPatience,
        reduceLrFactor, minLearningRate, batchNorm, optimizer, classWeights, head);
  }
}
