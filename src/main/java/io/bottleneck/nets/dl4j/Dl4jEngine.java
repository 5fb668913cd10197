package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.Engine;
import java.util.Map;

/** DL4J / ND4J ComputationGraph (NCHW): the reference implementation. */
public final class Dl4jEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = "dl4j";

  private static final Map<String, Builder> ARCHITECTURES = Map.of(
      MobileNetV1Base.ID, Engine.keras(MobileNetV1Base::build),
      SqueezeNetBase.ID, Engine.keras(SqueezeNetBase::build));

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, Builder> architectures() {
    return ARCHITECTURES;
  }
}
