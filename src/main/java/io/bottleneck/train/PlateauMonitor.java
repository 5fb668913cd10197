package io.bottleneck.train;

/**
 * Keras' EarlyStopping and ReduceLROnPlateau on the validation loss, as one state machine so both
 * see the same "improvement": a loss below {@code best - minDelta} (NaN never improves).
 */
final class PlateauMonitor {
  /** What to do after an epoch. */
  record Decision(boolean improved, boolean stop, double learningRate) {}

  private final int stopPatience;
  private final double minDelta;
  private final int lrPatience;
  private final double lrFactor;
  private final double minLearningRate;

  private double learningRate;
  private double best = Double.POSITIVE_INFINITY;
  private int bestEpoch = -1;
  private int epochsSinceImprovement;
  private int epochsSinceLrChange;

  PlateauMonitor(HeadConfig config) {
    this.stopPatience = config.earlyStoppingPatience();
    this.minDelta = config.earlyStoppingMinDelta();
    this.lrPatience = config.reduceLrPatience();
    this.lrFactor = config.reduceLrFactor();
    this.minLearningRate = config.minLearningRate();
    this.learningRate = config.learningRate();
  }

  Decision onEpochEnd(int epoch, double validationLoss) {
    boolean improved = validationLoss < best - minDelta;
    if (improved) {
      best = validationLoss;
      bestEpoch = epoch;
      epochsSinceImprovement = 0;
      epochsSinceLrChange = 0;
      return new Decision(true, false, learningRate);
    }
    epochsSinceImprovement++;
    epochsSinceLrChange++;
    // patience 0 turns early stopping off (as documented), it does not stop at the first miss
    boolean stop = stopPatience > 0 && epochsSinceImprovement >= stopPatience;
    if (epochsSinceLrChange >= lrPatience && learningRate > minLearningRate) {
      learningRate = Math.max(learningRate * lrFactor, minLearningRate);
      epochsSinceLrChange = 0;
    }
    return new Decision(false, stop, learningRate);
  }

  /** Epoch of the lowest validation loss so far, -1 before any finite loss. */
  int bestEpoch() {
    return bestEpoch;
  }

  double bestLoss() {
    return best;
  }
}
