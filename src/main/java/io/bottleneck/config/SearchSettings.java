package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.distinct;
import static io.bottleneck.config.ConfigValues.invalid;

import io.bottleneck.nets.Bases;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadSearch;
import io.bottleneck.train.SearchSpace;
import java.util.Arrays;
import java.util.List;

/**
 * The search.* keys, read and checked: each list holds the distinct values a hyper-parameter
 * search tries (empty keeps the train.* value), and together they must make a {@link
 * SearchSpace}.
 *
 * @param trials 0: no search
 * @param strategy grid or random
 */
record SearchSettings(
    int trials,
    String strategy,
    List<List<Integer>> hiddenUnits,
    List<Double> dropout,
    List<Double> learningRate,
    List<Double> l2,
    List<Boolean> batchNorm,
    List<String> optimizer) {
  private static final List<String> STRATEGIES =
      Arrays.stream(HeadSearch.Strategy.values()).map(HeadSearch.Strategy::toString).toList();

  /**
   * @param base the run's base (a search tunes a pretrained base's head only)
   * @param minLearningRate train.reduce-lr.min-lr, below which no learning rate may start
   */
  static SearchSettings read(ConfigValues v, String base, double minLearningRate) {
    int trials = v.atLeast("search.trials", 0);
    if (trials > 0 && Bases.pixelSize(base) > 0) {
      throw invalid("search.trials", trials, "0 with base " + base
          + " (the search tunes the head on a pretrained base's features, not the CNN from scratch)");
    }
    String strategy = v.string("search.strategy");
    if (!STRATEGIES.contains(strategy)) {
      throw invalid("search.strategy", strategy, "one of " + String.join(", ", STRATEGIES));
    }
    List<List<Integer>> hiddenUnits = v.layerSizeLists("search.hidden-units");
    List<Double> dropout = distinct("search.dropout", v.doubleList("search.dropout"));
    for (double d : dropout) {
      if (!(d >= 0 && d < 1)) {
        throw invalid("search.dropout", dropout, "a list of fractions in [0, 1)");
      }
    }
    List<Double> learningRate = distinct("search.learning-rate", v.doubleList("search.learning-rate"));
    for (double lr : learningRate) {
      if (!(lr > 0 && lr >= minLearningRate) || Double.isInfinite(lr)) {
        throw invalid(
            "search.learning-rate", learningRate,
            "a list of learning rates, each positive and >= train.reduce-lr.min-lr (" + minLearningRate + ")");
      }
    }
    List<Double> l2 = distinct("search.l2", v.doubleList("search.l2"));
    for (double x : l2) {
      if (!(x >= 0) || Double.isInfinite(x)) {
        throw invalid("search.l2", l2, "a list of numbers >= 0");
      }
    }
    List<Boolean> batchNorm = distinct("search.batch-norm", v.booleanList("search.batch-norm"));
    List<String> optimizer = distinct("search.optimizer", v.stringList("search.optimizer"));
    for (String o : optimizer) {
      if (!HeadConfig.OPTIMIZERS.contains(o)) {
        throw invalid("search.optimizer", optimizer, "a list of optimizers among " + String.join(", ", HeadConfig.OPTIMIZERS));
      }
    }

    try {
      new SearchSpace(hiddenUnits, dropout, learningRate, l2, batchNorm, optimizer);
    } catch (IllegalArgumentException e) { // the checks above should have named the key already
      throw new ConfigError("Cannot use the search.* values: " + e.getMessage(), e);
    }
    return new SearchSettings(trials, strategy, hiddenUnits, dropout, learningRate, l2, batchNorm, optimizer);
  }
}
