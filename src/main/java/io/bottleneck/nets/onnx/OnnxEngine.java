package io.bottleneck.nets.onnx;

import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Engine;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import io.bottleneck.nets.tf.TfMobileNetV2Base;
import java.util.Map;

/**
 * ONNX Runtime: built-in bases through the ONNX graphs the project writes from the same Keras
 * weights ({@link BuiltInOnnxGraphs}). Declared ONNX bases run on it too, through
 * {@link io.bottleneck.nets.DeclaredBases}.
 */
public final class OnnxEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = OnnxBase.ENGINE;

  private static final Map<String, Builder> ARCHITECTURES = Map.of(
      MobileNetV1Base.ID, OnnxEngine::build,
      SqueezeNetBase.ID, OnnxEngine::build,
      TfMobileNetV2Base.ID, OnnxEngine::build);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Map<String, Builder> architectures() {
    return ARCHITECTURES;
  }

  /**
   * A built-in base on ONNX Runtime: the project's ONNX graph of the same weights, NHWC input
   * preprocessed as on TensorFlow (so the cache entries are shared), features as its output.
   */
  private static ImageBase build(byte[] h5, String id, int inputSize, int tailBlocks) {
    return new OnnxBase(id, id, BuiltInOnnxGraphs.write(id, h5), BuiltInOnnxGraphs.inputPreprocessing(id),
        true, BaseDeclaration.Pooling.NONE, -1);
  }
}
