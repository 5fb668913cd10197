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
 */
public record TrainedHead(
    MultiLayerNetwork network, List<EpochStats> history, int bestEpoch, boolean stoppedEarly) {

  public TrainedHead {
    history = List.copyOf(history);
  }
}
