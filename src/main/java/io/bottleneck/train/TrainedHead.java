package io.bottleneck.train;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Result of {@link HeadTrainer#fit}.
 *
 * @param network the trained head; with restoreBestWeights and validation data it holds the
 *     weights of {@code history.get(bestEpoch)}
 * @param history one entry per epoch that ran
 * @param bestEpoch index into {@code history} of the lowest validation loss (the last epoch when
 *     there is no validation data)
 * @param stoppedEarly whether early stopping ended training before {@code epochs}
 * @param classWeights the weight of each class in the training loss, in class-index order
 *     (resolved from {@link HeadConfig#classWeights()}); empty when the loss was unweighted
 */
public record TrainedHead(
    MultiLayerNetwork network,
    List<EpochStats> history,
    int bestEpoch,
    boolean stoppedEarly,
    List<Double> classWeights) {

  public TrainedHead {
    history = List.copyOf(history);
    classWeights = List.copyOf(classWeights);
  }

  /** The epoch whose weights the network holds: {@code history.get(bestEpoch)}. */
  public EpochStats best() {
    return history.get(bestEpoch);
  }
}
