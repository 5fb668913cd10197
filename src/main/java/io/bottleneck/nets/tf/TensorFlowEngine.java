package io.bottleneck.nets.tf;

import io.bottleneck.nets.Engine;

/**
 * TensorFlow Java 0.5.0 (TF 2.10, oneDNN), one intra-op thread per instance: NHWC graphs built
 * with the Ops API from the same weights, BatchNorm folded into the convolutions.
 */
public final class TensorFlowEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = "tensorflow";

  @Override
  public String name() {
    return NAME;
  }
}
