package io.bottleneck.nets.tf;

import io.bottleneck.nets.Engine;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import java.util.Map;

/**
 * TensorFlow Java 0.5.0 (TF 2.10, oneDNN), one intra-op thread per instance: NHWC graphs built
 * with the Ops API from the same weights, BatchNorm folded into the convolutions.
 */
public final class TensorFlowEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = "tensorflow";

  private static final Map<String, Builder> ARCHITECTURES = Map.of(
      MobileNetV1Base.ID, Engine.keras(TfMobileNetBase::build),
      SqueezeNetBase.ID, Engine.keras(TfSqueezeNetBase::build),
      TfMobileNetV2Base.ID, Engine.keras(TfMobileNetV2Base::build));

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, Builder> architectures() {
    return ARCHITECTURES;
  }
}
