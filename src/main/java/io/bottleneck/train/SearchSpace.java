package io.bottleneck.train;

import java.io.Serializable;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * The values a {@link HeadSearch} tries for each head hyper-parameter; an empty list keeps the
 * base configuration's value. Combinations are numbered as nested loops in the order of the
 * components, {@code hiddenUnits} outermost and {@code optimizer} innermost (varying fastest),
 * like scikit-learn's {@code ParameterGrid} and Spark's {@code ParamGridBuilder}.
 */
public record SearchSpace(
    List<List<Integer>> hiddenUnits,
    List<Double> dropout,
    List<Double> learningRate,
    List<Double> l2,
    List<Boolean> batchNorm,
    List<String> optimizer)
    implements Serializable {

  public SearchSpace {
    hiddenUnits = distinct("hiddenUnits", hiddenUnits).stream().map(List::copyOf).toList();
    dropout = distinct("dropout", dropout);
    learningRate = distinct("learningRate", learningRate);
    l2 = distinct("l2", l2);
    batchNorm = distinct("batchNorm", batchNorm);
    optimizer = distinct("optimizer", optimizer);
  }

  /** No values: the one combination is the base configuration. */
  public static SearchSpace empty() {
    return new SearchSpace(List.of(), List.of(), List.of(), List.of(), List.of(), List.of());
  }

  private static <T> List<T> distinct(String name, List<T> values) {
    Objects.requireNonNull(values, name);
    List<T> copy = List.copyOf(values); // rejects null elements
    if (new HashSet<>(copy).size() != copy.size()) {
      throw new IllegalArgumentException(
          "The " + name + " values of a search must be distinct but were " + copy);
    }
    return copy;
  }

  private List<List<?>> dimensions() {
    return List.of(hiddenUnits, dropout, learningRate, l2, batchNorm, optimizer);
  }

  /** The number of combinations: the product of the list sizes, an empty list counting 1. */
  public long size() {
    long n = 1;
    for (List<?> values : dimensions()) {
      n = Math.multiplyExact(n, Math.max(1, values.size()));
    }
    return n;
  }

  /** Combination {@code index} in [0, size()), the base's value where a list is empty. */
  @SuppressWarnings("unchecked")
  public HeadParams combination(long index, HeadConfig base) {
    if (index < 0 || index >= size()) {
      throw new IndexOutOfBoundsException(
          "Combination " + index + " of a search space of " + size());
    }
    List<List<?>> dims = dimensions();
    Object[] chosen = new Object[dims.size()];
    long rest = index;
    // The last dimension varies fastest.
    for (int d = dims.size() - 1; d >= 0; d--) {
      List<?> values = dims.get(d);
      if (values.isEmpty()) {
        continue;
      }
      chosen[d] = values.get((int) (rest % values.size()));
      rest /= values.size();
    }
    return new HeadParams(
        chosen[0] == null ? base.hiddenUnits() : (List<Integer>) chosen[0],
        chosen[1] == null ? base.dropout() : (Double) chosen[1],
        chosen[2] == null ? base.learningRate() : (Double) chosen[2],
        chosen[3] == null ? base.l2() : (Double) chosen[3],
        chosen[4] == null ? base.batchNorm() : (Boolean) chosen[4],
        chosen[5] == null ? base.optimizer() : (String) chosen[5]);
  }
}
