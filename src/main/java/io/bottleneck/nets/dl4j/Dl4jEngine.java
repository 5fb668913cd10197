package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.Engine;

/** DL4J / ND4J ComputationGraph (NCHW): the reference implementation. */
public final class Dl4jEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = "dl4j";

  @Override
  public String name() {
    return NAME;
  }
}
