package io.bottleneck.nets.tf;

import io.bottleneck.nets.LoadedModelBase;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.FeatureMaps;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.onnx.OnnxModels;
import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Signature;
import org.tensorflow.Tensor;
import org.tensorflow.exceptions.TensorFlowException;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.framework.DataType;
import org.tensorflow.types.TFloat32;

/**
 * An {@link io.bottleneck.nets.ImageBase} over a user's TensorFlow SavedModel on TensorFlow Java: one signature's
 * only input is fed a float image batch ({@code [n, S, S, 3]} NHWC or {@code [n, 3, S, S]}
 * NCHW), one tensor is fetched: an output of that signature, or any operation's output of the
 * graph ({@code op} or {@code op:1}). A {@code [n, features]} tensor is the features; a 4-D map is
 * pooled here ({@link FeatureMaps}). Images are decoded and preprocessed in Java, as on the ONNX
 * engine. The session has the engine's thread settings ({@link TfRuntime#sessionConfig}).
 *
 * <p>Holds a native bundle (graph + session): {@link #close()} it (a {@link Cleaner} does it
 * for an unclosed, unreachable instance). Not thread-safe, like every base.
 */
public final class SavedModelBase extends LoadedModelBase {

  /** The engine's name, as {@code featurize.engine} spells it. */
  public static final String ENGINE = "tensorflow";
  /** The meta graph tag loaded. */
  public static final String TAG = "serve";

  private static final Cleaner CLEANER = Cleaner.create();

  private final String poolKey;
  private final Pooling pooling;
  private final SavedModelBundle bundle;
  private final Cleaner.Cleanable cleanable;
  private final String inputName;
  private final DataType inputType;
  private final Shape inputShape;
  private final String outputName;
  private final DataType outputType;
  private final Shape outputShape;
  private final int featureSize;
  private boolean closed;

  /**
   * The model does not fit what was asked of it; {@link #field()} is the declaration key at
   * fault ({@code signature}, {@code output} or {@code uri}).
   */
  public static final class MismatchException extends IllegalArgumentException {
    private final String field;

    MismatchException(String field, String message) {
      super(message);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  /**
   * Loads the SavedModel in {@code dir} (tag {@code serve}) and finds its input and output.
   *
   * @param poolKey what tells this network apart from others of the same id (a model's hash)
   * @param signature the signature whose only input is fed
   * @param output an output key of {@code signature}, else an operation's output of the graph
   * @param featureSize the vector length; -1 to take it from the output's static shape or a
   *     first forward pass
   * @throws MismatchException when the signature or output is not in the model
   * @throws IllegalArgumentException when TensorFlow cannot load the directory
   */
  public SavedModelBase(String id, String poolKey, Path dir, String signature, String output,
      Preprocessing preprocessing, boolean channelsLast, Pooling pooling, int featureSize) {
    super(id, preprocessing, channelsLast);
    this.poolKey = poolKey;
    this.pooling = pooling;
    TfRuntime.init(); // before the first TF class loads the natives
    try {
      this.bundle = SavedModelBundle.loader(dir.toString()).withTags(TAG)
          .withConfigProto(TfRuntime.sessionConfig()).load();
    } catch (TensorFlowException | IllegalArgumentException e) {
      throw new MismatchException("uri", "TensorFlow cannot load the SavedModel (tag '" + TAG
          + "') of base " + id + ": " + e.getMessage());
    }
    this.cleanable = CLEANER.register(this, bundle::close);
    try {
      Signature sig = signature(signature);
      Map<String, Signature.TensorDescription> inputs = sig.getInputs();
      if (inputs.size() != 1) {
        throw new MismatchException("signature", "signature '" + signature + "' has " + inputs.size()
            + " inputs " + inputs.keySet() + "; a frozen base takes one image tensor");
      }
      Signature.TensorDescription in = inputs.values().iterator().next();
      this.inputName = in.name;
      this.inputType = in.dataType;
      this.inputShape = in.shape;
      Signature.TensorDescription out = sig.getOutputs().get(output);
      if (out != null) {
        this.outputName = out.name;
        this.outputType = out.dataType;
        this.outputShape = out.shape;
      } else {
        Output<?> op = operationOutput(output);
        if (op == null) {
          throw new MismatchException("output", "'" + output + "' is neither an output of signature '"
              + signature + "' (its outputs: " + String.join(", ", new TreeSet<>(sig.getOutputs().keySet()))
              + ") nor an operation of the graph; nearest operations: "
              + String.join(", ", OnnxModels.nearest(output, operationNames(), 8)));
        }
        this.outputName = op.op().name() + ":" + op.index();
        this.outputType = op.dataType();
        this.outputShape = op.shape();
      }
      this.featureSize = featureSize > 0 ? featureSize : staticOrProbedFeatureSize();
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  private Signature signature(String key) {
    List<String> keys = new ArrayList<>();
    for (Signature s : bundle.signatures()) {
      if (s.key().equals(key)) {
        return s;
      }
      keys.add(s.key());
    }
    throw new MismatchException("signature", "the SavedModel has no signature '" + key + "'; its signatures: "
        + (keys.isEmpty() ? "none (export it with a serving signature)" : String.join(", ", new TreeSet<>(keys))));
  }

  /** The output {@code op} or {@code op:i} of the graph, or null. */
  private Output<?> operationOutput(String name) {
    String op = name;
    int index = 0;
    int colon = name.lastIndexOf(':');
    if (colon > 0) {
      try {
        index = Integer.parseInt(name.substring(colon + 1));
        op = name.substring(0, colon);
      } catch (NumberFormatException e) {
        return null;
      }
    }
    GraphOperation operation = bundle.graph().operation(op);
    if (operation == null || index < 0 || index >= operation.numOutputs()) {
      return null;
    }
    return operation.output(index);
  }

  private List<String> operationNames() {
    List<String> names = new ArrayList<>();
    Iterator<GraphOperation> it = bundle.graph().operations();
    while (it.hasNext()) {
      names.add(it.next().name());
    }
    return names;
  }

  /** The fed tensor's name ({@code op:i}), type and shape (-1: any size; null when unknown). */
  public String inputName() {
    return inputName;
  }

  public DataType inputType() {
    return inputType;
  }

  public long[] inputShape() {
    return shape(inputShape);
  }

  /** The fetched tensor's name ({@code op:i}), type and shape (-1: any size; null when unknown). */
  public String outputName() {
    return outputName;
  }

  public DataType outputType() {
    return outputType;
  }

  public long[] outputShape() {
    return shape(outputShape);
  }

  /** The TensorFlow version that wrote the SavedModel, as its meta graph records it ("" if not). */
  public String writtenBy() {
    return bundle.metaGraphDef().getMetaInfoDef().getTensorflowVersion();
  }

  private static long[] shape(Shape s) {
    return s == null || s.isUnknown() ? null : s.asArray();
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
    if (closed) {
      throw new IllegalStateException("Base " + id() + " (" + ENGINE + ") is closed");
    }
    int s = preprocessing().size();
    Shape shape = channelsLast() ? Shape.of(n, s, s, 3) : Shape.of(n, 3, s, s);
    String what = "Output " + outputName + " of base " + id();
    try (TFloat32 in = TFloat32.tensorOf(shape, DataBuffers.of(batch, true, false).narrow(shape.size()));
        Result result = bundle.session().runner().feed(inputName, in).fetch(outputName).run()) {
      Tensor t = result.get(0);
      if (!(t instanceof TFloat32 out)) {
        throw new IllegalStateException(what + " is " + t.dataType() + ", not float");
      }
      float[] flat = new float[(int) out.size()];
      out.read(DataBuffers.of(flat, false, false));
      return FeatureMaps.toFeatures(flat, out.shape().asArray(), channelsLast(), pooling, what);
    } catch (TensorFlowException e) {
      throw new IllegalStateException("TensorFlow failed on base " + id() + ": " + e.getMessage(), e);
    }
  }

  /**
   * The feature length: the output's static second dimension when it is [N, features] and
   * nothing is pooled here, else from one forward pass of a blank image.
   */
  private int staticOrProbedFeatureSize() {
    long[] shape = outputShape();
    if (pooling == Pooling.NONE && shape != null && shape.length == 2 && shape[1] > 0) {
      return (int) shape[1];
    }
    return probeFeatureSize();
  }

  @Override
  public void close() {
    closed = true;
    cleanable.clean(); // closes the bundle at most once
  }
}
