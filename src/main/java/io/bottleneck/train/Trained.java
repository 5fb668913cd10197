package io.bottleneck.train;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.io.ModelBundle;

/**
 * A trained head as a bundle ({@link TrainStage#trainAndEvaluate}), with its validation metrics
 * when there were validation rows (else null), the search's trials when one ran (search.trials
 * &gt; 0; else null), and the fine-tuned network when fine-tuning ran (else null).
 */
public record Trained(
    ModelBundle bundle, TrainedHead head, ClassificationMetrics metrics, HeadSearch.Result search,
    TrainedHead fineTuned) {}
