package io.bottleneck.train;

/**
 * Metrics after one epoch, computed over the whole train and validation sets in inference mode
 * (no dropout) and without the L2 term, so they compare directly with the evaluate stage.
 *
 * @param epoch 0-based index, as in Keras' {@code History.epoch} (the log line shows epoch + 1)
 * @param trainLoss mean cross-entropy on the training set
 * @param trainAccuracy fraction of training rows whose argmax is the label
 * @param validationLoss mean cross-entropy on the validation set; NaN without validation data
 * @param validationAccuracy accuracy on the validation set; NaN without validation data
 * @param learningRate the learning rate this epoch was trained with
 */
public record EpochStats(
    int epoch,
    double trainLoss,
    double trainAccuracy,
    double validationLoss,
    double validationAccuracy,
    double learningRate) {}
