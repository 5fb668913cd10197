package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.train.HeadConfig;
import java.util.Set;

/**
 * The fine-tune.* keys, read and checked: fine-tuning needs a built-in base whose last blocks
 * the DL4J engine can train ({@link TunableTail}).
 *
 * @param blocks 0: no fine-tuning
 */
record FineTuneSettings(int blocks, int epochs, double learningRate, String optimizer) {
  /**
   * @param base the run's base
   * @param declared the names of the bases declared in bottleneck.bases
   */
  static FineTuneSettings read(ConfigValues v, String base, Set<String> declared) {
    int blocks = v.atLeast("fine-tune.blocks", 0);
    int epochs = v.positive("fine-tune.epochs");
    double learningRate = v.positiveNumber("fine-tune.learning-rate");
    String optimizer = v.string("fine-tune.optimizer");
    if (!HeadConfig.OPTIMIZERS.contains(optimizer)) {
      throw invalid("fine-tune.optimizer", optimizer, "one of " + String.join(", ", HeadConfig.OPTIMIZERS));
    }
    if (blocks > 0 && declared.contains(base)) {
      throw invalid("fine-tune.blocks", blocks, "0 with base " + base
          + ": fine-tuning applies to built-in bases only, and " + base + " is declared in bottleneck.bases");
    }
    if (blocks > 0) {
      try {
        TunableTail.frozenPartId(base, blocks);
      } catch (IllegalArgumentException e) {
        throw invalid("fine-tune.blocks", blocks,
            "0 with base " + base + " (fine-tuning supports mobilenet_v2_1.0 alone, 1 block,"
                + " mobilenet_v1_0.25 alone, 1 or 2 blocks, or squeezenet_1.1 alone, 1 or 2 blocks)");
      }
    }
    return new FineTuneSettings(blocks, epochs, learningRate, optimizer);
  }
}
