package io.bottleneck.nets.onnx;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import onnx.Onnx;

/**
 * Builds an ONNX model with the classes generated from {@code onnx.proto}: graph inputs and
 * outputs, constant tensors (initializers) and nodes, every name unique in the graph.
 *
 * <p>What it writes: opset {@value #OPSET} of the default domain (what ONNX Runtime 1.x runs
 * everywhere and what exporters commonly emit), IR version {@value #IR_VERSION} (the one that
 * goes with opset 13), producer {@value #PRODUCER}; initializers as little-endian
 * {@code raw_data}, the compact encoding the ONNX spec prescribes for raw bytes.
 *
 * <p>{@link #build()} keeps only the nodes and initializers the declared outputs depend on, so a
 * caller may add a whole network and output an intermediate value (the frozen part of a
 * network cut before its last blocks) without pruning by hand.
 *
 * <p>Usage: {@code String y = b.node("Relu", x).output();} adds a node whose one output gets a
 * fresh name derived from the op type (or from {@link Node#name}).
 */
public final class OnnxGraphBuilder {

  public static final long OPSET = 13;
  public static final long IR_VERSION = 7;
  public static final String PRODUCER = "bottleneck";
  /** The symbolic batch dimension ({@code dim_param}) of inputs and outputs declared with it. */
  public static final String BATCH = "N";

  private final String graphName;
  /** Every name given out (values, nodes): names stay unique across both. */
  private final Set<String> names = new HashSet<>();
  /** Inputs, constants and node outputs: what a node may take. */
  private final Set<String> values = new HashSet<>();
  private final List<Onnx.ValueInfoProto> inputs = new ArrayList<>();
  private final List<Onnx.ValueInfoProto> outputs = new ArrayList<>();
  private final Map<String, Onnx.TensorProto> initializers = new LinkedHashMap<>();
  private final List<Onnx.NodeProto> nodes = new ArrayList<>();

  public OnnxGraphBuilder(String graphName) {
    this.graphName = Objects.requireNonNull(graphName, "graph name");
  }

  /**
   * Declares a graph input and returns its name. Each dimension is a {@link Number} (fixed) or a
   * {@link String} (symbolic, e.g. {@link #BATCH}).
   */
  public String input(String name, Onnx.TensorProto.DataType type, Object... dims) {
    inputs.add(valueInfo(claimValue(name), type, dims));
    return name;
  }

  /**
   * Declares an existing value (an input or a node output) as a graph output, with the given
   * type and dimensions (as for {@link #input}). Name the producing node's output after the
   * contract ({@link Node#output(String)}) to give the output that name.
   */
  public OnnxGraphBuilder output(String value, Onnx.TensorProto.DataType type, Object... dims) {
    if (!values.contains(value)) {
      throw new IllegalArgumentException("Graph " + graphName + " has no value named '" + value + "'");
    }
    outputs.add(valueInfo(value, type, dims));
    return this;
  }

  /** Adds a float constant of the given shape and returns its unique name (from {@code hint}). */
  public String constant(String hint, float[] values, long... shape) {
    checkCount(hint, values.length, shape);
    ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Float.BYTES))
        .order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return initializer(hint, Onnx.TensorProto.DataType.FLOAT, bytes, shape);
  }

  /** Adds an int64 constant (shapes, axes, indices) of the given shape and returns its name. */
  public String constant(String hint, long[] values, long... shape) {
    checkCount(hint, values.length, shape);
    ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, Long.BYTES))
        .order(ByteOrder.LITTLE_ENDIAN);
    bytes.asLongBuffer().put(values);
    return initializer(hint, Onnx.TensorProto.DataType.INT64, bytes, shape);
  }

  /** A float scalar (rank 0), e.g. Clip's bounds since opset 11. */
  public String scalar(String hint, float value) {
    return constant(hint, new float[] {value});
  }

  /** Starts a node of a default-domain operator over the named inputs; see {@link Node}. */
  public Node node(String opType, String... inputs) {
    for (String input : inputs) {
      // "" is ONNX's placeholder for an omitted optional input
      if (!input.isEmpty() && !values.contains(input)) {
        throw new IllegalArgumentException("Node " + opType + " of graph " + graphName
            + ": no value named '" + input + "'");
      }
    }
    return new Node(opType, inputs);
  }

  /**
   * The model: declared inputs and outputs, and the nodes and initializers the outputs depend
   * on, in the order they were added (which is topological: a node only takes existing values).
   */
  public Onnx.ModelProto build() {
    if (outputs.isEmpty()) {
      throw new IllegalStateException("Graph " + graphName + " has no output");
    }
    Set<String> needed = new HashSet<>();
    Deque<String> pending = new ArrayDeque<>();
    outputs.forEach(o -> pending.add(o.getName()));
    Map<String, Onnx.NodeProto> producers = new LinkedHashMap<>();
    for (Onnx.NodeProto n : nodes) {
      n.getOutputList().forEach(o -> producers.put(o, n));
    }
    Set<Onnx.NodeProto> kept = new HashSet<>();
    while (!pending.isEmpty()) {
      String value = pending.pop();
      if (needed.add(value)) {
        Onnx.NodeProto producer = producers.get(value);
        if (producer != null && kept.add(producer)) {
          pending.addAll(producer.getInputList());
        }
      }
    }
    Onnx.GraphProto.Builder graph = Onnx.GraphProto.newBuilder()
        .setName(graphName)
        .addAllInput(inputs)
        .addAllOutput(outputs);
    nodes.stream().filter(kept::contains).forEach(graph::addNode);
    initializers.values().stream().filter(t -> needed.contains(t.getName()))
        .forEach(graph::addInitializer);
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .setProducerName(PRODUCER)
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
        .setGraph(graph)
        .build();
  }

  /**
   * A node being built: attributes, then {@link #output()} adds it to the graph. Not reusable
   * after that.
   */
  public final class Node {

    private final Onnx.NodeProto.Builder proto;
    private String hint;

    private Node(String opType, String[] inputs) {
      this.proto = Onnx.NodeProto.newBuilder().setOpType(opType).addAllInput(Arrays.asList(inputs));
      this.hint = opType;
    }

    /** Names the node (made unique) and so its output, instead of after its op type. */
    public Node name(String nameHint) {
      this.hint = nameHint;
      return this;
    }

    public Node attr(String name, long value) {
      return attr(attribute(name, Onnx.AttributeProto.AttributeType.INT).setI(value));
    }

    public Node attr(String name, long... values) {
      Onnx.AttributeProto.Builder a = attribute(name, Onnx.AttributeProto.AttributeType.INTS);
      for (long v : values) {
        a.addInts(v);
      }
      return attr(a);
    }

    public Node attr(String name, float value) {
      return attr(attribute(name, Onnx.AttributeProto.AttributeType.FLOAT).setF(value));
    }

    public Node attr(String name, String value) {
      return attr(attribute(name, Onnx.AttributeProto.AttributeType.STRING)
          .setS(ByteString.copyFromUtf8(value)));
    }

    /** Adds the node with one output named after it (unique); returns the output's name. */
    public String output() {
      String name = unique(hint);
      values.add(name);
      return add(name, name);
    }

    /** Adds the node with one output of exactly this name (a graph output's contract name). */
    public String output(String exactName) {
      String output = claimValue(exactName);
      return add(unique(hint), output);
    }

    private String add(String nodeName, String output) {
      nodes.add(proto.setName(nodeName).addOutput(output).build());
      return output;
    }

    private Node attr(Onnx.AttributeProto.Builder a) {
      proto.addAttribute(a);
      return this;
    }

    private Onnx.AttributeProto.Builder attribute(String name, Onnx.AttributeProto.AttributeType type) {
      return Onnx.AttributeProto.newBuilder().setName(name).setType(type);
    }
  }

  private String initializer(String hint, Onnx.TensorProto.DataType type, ByteBuffer bytes, long[] shape) {
    String name = unique(hint);
    values.add(name);
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long d : shape) {
      t.addDims(d);
    }
    initializers.put(name, t.setRawData(ByteString.copyFrom(bytes.array())).build());
    return name;
  }

  private void checkCount(String hint, int count, long[] shape) {
    long expected = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    if (expected != count) {
      throw new IllegalArgumentException("Constant " + hint + " of graph " + graphName + ": "
          + count + " values for shape " + Arrays.toString(shape));
    }
  }

  private static Onnx.ValueInfoProto valueInfo(String name, Onnx.TensorProto.DataType type, Object[] dims) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (Object d : dims) {
      Onnx.TensorShapeProto.Dimension.Builder dim = shape.addDimBuilder();
      if (d instanceof Number n) {
        dim.setDimValue(n.longValue());
      } else if (d instanceof String s) {
        dim.setDimParam(s);
      } else {
        throw new IllegalArgumentException("Dimension of " + name + " must be a number or a name: " + d);
      }
    }
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(
            Onnx.TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape)))
        .build();
  }

  /** {@code hint} if no value, node or constant has that name yet, else {@code hint_<k>}. */
  private String unique(String hint) {
    String name = hint;
    for (int k = 2; names.contains(name); k++) {
      name = hint + "_" + k;
    }
    names.add(name);
    return name;
  }

  /** Takes exactly {@code name} for a value, failing if it is already used. */
  private String claimValue(String name) {
    if (!names.add(name)) {
      throw new IllegalArgumentException("Graph " + graphName + " already uses the name '" + name + "'");
    }
    values.add(name);
    return name;
  }
}
