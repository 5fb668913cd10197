package io.bottleneck.train;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The head hyper-parameters that {@link HeadSearch} varies: one point of a {@link SearchSpace}.
 * The other settings of a trial (epochs, early stopping, class weights, ...) are the base
 * configuration's.
 */
public record HeadParams(
    List<Integer> hiddenUnits,
    double dropout,
    double learningRate,
    double l2,
    boolean batchNorm,
    String optimizer)
    implements Serializable {

  public HeadParams {
    hiddenUnits = List.copyOf(Objects.requireNonNull(hiddenUnits, "hiddenUnits"));
    Objects.requireNonNull(optimizer, "optimizer");
  }

  /** The values of {@code config}. */
  public static HeadParams of(HeadConfig config) {
    return new HeadParams(
        config.hiddenUnits(),
        config.dropout(),
        config.learningRate(),
        config.l2(),
        config.batchNorm(),
        config.optimizer());
  }

  /** {@code base} with these values; validated as any {@link HeadConfig}. */
  public HeadConfig applyTo(HeadConfig base) {
    return base.toBuilder()
        .hiddenUnits(hiddenUnits)
        .dropout(dropout)
        .learningRate(learningRate)
        .l2(l2)
        .batchNorm(batchNorm)
        .optimizer(optimizer)
        .build();
  }

  /** Named as the configuration keys, with '_' for '-': hidden_units, dropout, ... */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("hidden_units", hiddenUnits);
    m.put("dropout", dropout);
    m.put("learning_rate", learningRate);
    m.put("l2", l2);
    m.put("batch_norm", batchNorm);
    m.put("optimizer", optimizer);
    return m;
  }
}
