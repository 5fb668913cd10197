package io.bottleneck.train;

import com.fasterxml.jackson.annotation.JsonValue;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How the training loss weighs the classes: not at all, scikit-learn's "balanced" ({@code
 * n_samples / (n_classes * count_c)}, from the training rows' label counts), or one given weight
 * per class index. Written (JSON, logs) as its configuration string: {@code none}, {@code
 * balanced} or {@code 1.0,3.0}.
 *
 * @param kind which of the three
 * @param weights the given weights in class-index order for {@link Kind#EXPLICIT}, else empty
 */
public record ClassWeights(Kind kind, List<Double> weights) implements Serializable {

  /** The three ways of weighing classes. */
  public enum Kind {
    NONE,
    BALANCED,
    EXPLICIT
  }

  public static final ClassWeights NONE = new ClassWeights(Kind.NONE, List.of());
  public static final ClassWeights BALANCED = new ClassWeights(Kind.BALANCED, List.of());

  public ClassWeights {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(weights, "weights");
    weights = List.copyOf(weights);
    if (kind == Kind.EXPLICIT) {
      if (weights.isEmpty()) {
        throw new IllegalArgumentException("Explicit class weights need at least one weight");
      }
      for (Double w : weights) {
        if (!(w > 0) || Double.isInfinite(w)) {
          throw new IllegalArgumentException(
              "Class weights must all be positive and finite but were " + weights);
        }
      }
    } else if (!weights.isEmpty()) {
      throw new IllegalArgumentException(
          "Class weights " + kind + " take no weights but were given " + weights);
    }
  }

  /** One weight per class index. */
  public static ClassWeights of(List<Double> weights) {
    return new ClassWeights(Kind.EXPLICIT, weights);
  }

  /**
   * {@code none}, {@code balanced} (case-insensitive) or comma-separated positive weights in
   * class-index order, such as {@code 1.0,3.0}.
   */
  public static ClassWeights parse(String spec) {
    Objects.requireNonNull(spec, "spec");
    String s = spec.trim();
    if (s.equalsIgnoreCase("none")) {
      return NONE;
    }
    if (s.equalsIgnoreCase("balanced")) {
      return BALANCED;
    }
    List<Double> weights = new ArrayList<>();
    for (String part : s.split(",", -1)) {
      try {
        weights.add(Double.parseDouble(part.trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "Class weights must be none, balanced or comma-separated numbers but were '" + spec
                + "'", e);
      }
    }
    return of(weights);
  }

  /**
   * The weight of each class for a training set with these row counts per class index, or null
   * for {@link Kind#NONE} (an unweighted loss). With "balanced", a class without training rows
   * gets weight 1: its loss term is zero on every training row anyway.
   *
   * @throws IllegalArgumentException when explicit weights do not match the number of classes
   */
  public double[] resolve(long[] classCounts) {
    int numClasses = classCounts.length;
    switch (kind) {
      case NONE:
        return null;
      case EXPLICIT:
        if (weights.size() != numClasses) {
          throw new IllegalArgumentException(
              "Class weights " + this + " give " + weights.size() + " weights but there are "
                  + numClasses + " classes; give one weight per class, in class order.");
        }
        return weights.stream().mapToDouble(Double::doubleValue).toArray();
      case BALANCED:
      default:
        long rows = 0;
        for (long c : classCounts) {
          rows += c;
        }
        double[] w = new double[numClasses];
        for (int c = 0; c < numClasses; c++) {
          w[c] = classCounts[c] == 0 ? 1.0 : rows / ((double) numClasses * classCounts[c]);
        }
        return w;
    }
  }

  /** The configuration string: none, balanced or the weights joined by commas. */
  @JsonValue
  @Override
  public String toString() {
    if (kind != Kind.EXPLICIT) {
      return kind.name().toLowerCase(Locale.ROOT);
    }
    List<String> parts = new ArrayList<>();
    weights.forEach(w -> parts.add(String.valueOf(w)));
    return String.join(",", parts);
  }
}
