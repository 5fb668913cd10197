package io.bottleneck.nets.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.bottleneck.nets.LoadedModelBase;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.FeatureMaps;
import io.bottleneck.nets.Preprocessing;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * An {@link io.bottleneck.nets.ImageBase} on the ONNX Runtime engine: one ORT session over an ONNX graph with one
 * float image input (NCHW or NHWC) and the feature tensor as its output, a vector per image or
 * a 4-D map that is pooled here. Images are decoded and preprocessed in Java
 * ({@link LoadedModelBase}), as on the DL4J engine.
 *
 * <p>Not thread-safe by contract (one instance per task thread, like every base); holds a
 * native session: {@link #close()} it.
 */
public final class OnnxBase extends LoadedModelBase {

  /** The engine's name, as {@code featurize.engine} spells it. */
  public static final String ENGINE = "onnx";

  private final String poolKey;
  private final Pooling pooling;
  private final int featureSize;
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private boolean closed;

  /**
   * @param model an ONNX graph whose only output is the feature tensor (see {@link OnnxModels#cutAt})
   * @param poolKey what tells this network apart from others of the same id (a model's hash)
   * @param featureSize the vector length; -1 to take it from a first forward pass
   */
  public OnnxBase(String id, String poolKey, byte[] model, Preprocessing preprocessing,
      boolean channelsLast, Pooling pooling, int featureSize) {
    this(id, poolKey, () -> OrtRuntime.session(model), preprocessing, channelsLast, pooling, featureSize);
  }

  /**
   * {@link #OnnxBase(String, String, byte[], Preprocessing, boolean, Pooling, int)} over a model
   * file, whose external data files ONNX Runtime reads from the file's folder.
   */
  public OnnxBase(String id, String poolKey, Path modelFile, Preprocessing preprocessing,
      boolean channelsLast, Pooling pooling, int featureSize) {
    this(id, poolKey, () -> OrtRuntime.session(modelFile), preprocessing, channelsLast, pooling, featureSize);
  }

  /** Opens the session of a model held one way or another. */
  @FunctionalInterface
  private interface SessionOpener {
    OrtSession open() throws OrtException;
  }

  private OnnxBase(String id, String poolKey, SessionOpener model, Preprocessing preprocessing,
      boolean channelsLast, Pooling pooling, int featureSize) {
    super(id, preprocessing, channelsLast);
    this.poolKey = poolKey;
    this.pooling = pooling;
    try {
      this.session = model.open();
    } catch (OrtException e) {
      throw new IllegalArgumentException("ONNX Runtime cannot load the model of base " + id + ": "
          + e.getMessage(), e);
    }
    try {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      if (inputs.size() != 1) {
        throw new IllegalArgumentException("The model of base " + id + " has " + inputs.size()
            + " inputs " + inputs.keySet() + "; a frozen base takes one image tensor");
      }
      if (outputs.size() != 1) {
        throw new IllegalArgumentException("The model of base " + id + " has " + outputs.size()
            + " outputs " + outputs.keySet() + "; cut it at the feature tensor first");
      }
      this.inputName = inputs.keySet().iterator().next();
      this.outputName = outputs.keySet().iterator().next();
      this.featureSize = featureSize > 0 ? featureSize : staticOrProbedFeatureSize();
    } catch (OrtException | RuntimeException e) {
      closeQuietly();
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalArgumentException("ONNX Runtime cannot run the model of base " + id + ": "
          + e.getMessage(), e);
    }
  }

  /** The input's and output's declared type and shape, as ONNX Runtime reports them. */
  public TensorInfo inputInfo() throws OrtException {
    return (TensorInfo) session.getInputInfo().get(inputName).getInfo();
  }

  public TensorInfo outputInfo() throws OrtException {
    return (TensorInfo) session.getOutputInfo().get(outputName).getInfo();
  }

  public String inputName() {
    return inputName;
  }

  public String outputName() {
    return outputName;
  }

  @Override
  public String poolKey() {
    return poolKey;
  }

  @Override
  public int featureSize() {
    return featureSize;
  }

  @Override
  public String engine() {
    return ENGINE;
  }





  /** One pass; the output flattened, 4-D outputs pooled to {@code [n, channels]}. */
  @Override
  protected float[] run(float[] batch, int n) {
    checkOpen();
    int s = preprocessing().size();
    long[] shape = channelsLast() ? new long[] {n, s, s, 3} : new long[] {n, 3, s, s};
    try (OnnxTensor input = OnnxTensor.createTensor(OrtRuntime.environment(),
            FloatBuffer.wrap(batch, 0, n * 3 * s * s), shape);
        OrtSession.Result result = session.run(Map.of(inputName, input), Set.of(outputName))) {
      OnnxValue value = result.get(0);
      if (!(value instanceof OnnxTensor tensor)) {
        throw new IllegalStateException("Output " + outputName + " of base " + id() + " is not a tensor");
      }
      long[] dims = tensor.getInfo().getShape();
      FloatBuffer values = tensor.getFloatBuffer();
      if (values == null) {
        throw new IllegalStateException("Output " + outputName + " of base " + id() + " is "
            + tensor.getInfo().type + ", not float");
      }
      float[] flat = new float[values.remaining()];
      values.get(flat);
      return FeatureMaps.toFeatures(flat, dims, channelsLast(), pooling,
          "Output " + outputName + " of base " + id());
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on base " + id() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The feature length: the output's static second dimension when it is [N, features] and
   * nothing is pooled here, else from one forward pass of a blank image.
   */
  private int staticOrProbedFeatureSize() throws OrtException {
    long[] shape = outputInfo().getShape();
    if (pooling == Pooling.NONE && shape.length == 2 && shape[1] > 0) {
      return (int) shape[1];
    }
    return probeFeatureSize();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("Base " + id() + " (" + ENGINE + ") is closed");
    }
  }

  private void closeQuietly() {
    try {
      session.close();
    } catch (OrtException | RuntimeException ignored) {
      // already failing: the first error is the one to report
    }
  }

  @Override
  public void close() {
    if (!closed) {
      closed = true;
      closeQuietly();
    }
  }
}
