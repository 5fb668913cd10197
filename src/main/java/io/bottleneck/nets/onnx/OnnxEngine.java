package io.bottleneck.nets.onnx;

import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.Engine;

/**
 * ONNX Runtime: built-in bases through the ONNX graphs the project writes from the same Keras
 * weights ({@link BuiltInOnnxGraphs}). Declared ONNX bases run on it too, through
 * {@link io.bottleneck.nets.DeclaredBases}.
 */
public final class OnnxEngine implements Engine {

  /** The engine's name. */
  public static final String NAME = OnnxBase.ENGINE;

  @Override
  public String name() {
    return NAME;
  }

  /**
   * How a built-in architecture runs on ONNX Runtime: the project's ONNX graph of its weights
   * ({@code network} written by {@link BuiltInOnnxGraphs}), NHWC input preprocessed as on
   * TensorFlow (so the cache entries are shared), features as its output.
   */
  public static Engine.Builder builtIn(BuiltInOnnxGraphs.Network network) {
    return new GraphBuilder(network);
  }

  /** {@link #builtIn}'s builder; {@link BuiltInOnnxGraphs#write(String, byte[])} reads its network. */
  record GraphBuilder(BuiltInOnnxGraphs.Network network) implements Engine.Builder {
    @Override
    public OnnxBase build(byte[] h5, String id, int inputSize, int tailBlocks) {
      return new OnnxBase(id, id, BuiltInOnnxGraphs.write(Bases.architecture(id), network, id, h5),
          BuiltInOnnxGraphs.inputPreprocessing(id), true, BaseDeclaration.Pooling.NONE, -1);
    }
  }
}
