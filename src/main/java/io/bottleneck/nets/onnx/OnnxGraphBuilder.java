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
  /** Operator sets beyond the default domain's {@value #OPSET}, or a newer default one, by domain. */
  private final Map<String, Long> opsets = new LinkedHashMap<>(Map.of("", OPSET));
  private final List<Onnx.FunctionProto> functions = new ArrayList<>();
  private final Map<String, String> metadata = new LinkedHashMap<>();
  private long irVersion = IR_VERSION;
  private String producerVersion = "";
  private String docString = "";

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
          // a subgraph (If, Loop, Scan) may read outer values that are not the node's inputs
          producer.getAttributeList().forEach(a -> subgraphNames(a, pending));
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
    Onnx.ModelProto.Builder model = Onnx.ModelProto.newBuilder()
        .setIrVersion(irVersion)
        .setProducerName(PRODUCER)
        .setProducerVersion(producerVersion)
        .setDocString(docString)
        .setGraph(graph)
        .addAllFunctions(functions);
    opsets.forEach((domain, version) ->
        model.addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain(domain).setVersion(version)));
    metadata.forEach((key, value) ->
        model.addMetadataProps(Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value)));
    return model.build();
  }

  /** Sets the model's {@code metadata_props} entry {@code key} (written by {@link #build()}). */
  public OnnxGraphBuilder metadata(String key, String value) {
    metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
    return this;
  }

  /** Sets the model's producer version and doc string. */
  public OnnxGraphBuilder describe(String version, String doc) {
    producerVersion = Objects.requireNonNull(version, "version");
    docString = Objects.requireNonNull(doc, "doc");
    return this;
  }

  /**
   * Adds another model's graph to this one: its initializers and nodes with every value and
   * node name prefixed with {@code prefix} (subgraphs included), its graph inputs replaced by
   * values of this graph ({@code inputs}: their name in the other graph to a value here); its
   * operator sets, IR version and local functions are merged in (the newer version of an
   * operator set wins: only operators whose meaning did not change between the versions may be
   * used on both sides). Nodes the declared outputs do not need are dropped by {@link #build()}.
   *
   * @return the value here of each of the other graph's values, by its name there
   * @throws IllegalArgumentException when an input of the other graph is not given, a given one
   *     is not its input, a prefixed name is taken, it keeps tensors in external data or sparse
   *     initializers, or a local function's name is already used
   */
  public Map<String, String> embed(Onnx.ModelProto model, String prefix, Map<String, String> inputs) {
    Onnx.GraphProto g = model.getGraph();
    Set<String> initializerNames = new HashSet<>();
    g.getInitializerList().forEach(t -> initializerNames.add(t.getName()));
    Map<String, String> renamed = new LinkedHashMap<>();
    for (Onnx.ValueInfoProto in : g.getInputList()) {
      if (initializerNames.contains(in.getName())) {
        continue; // IR < 4 lists initializers among the inputs
      }
      String mapped = inputs.get(in.getName());
      if (mapped == null || !values.contains(mapped)) {
        throw new IllegalArgumentException("Graph input '" + in.getName() + "' of the embedded model is not given a value");
      }
      renamed.put(in.getName(), mapped);
    }
    for (String given : inputs.keySet()) {
      if (!renamed.containsKey(given)) {
        throw new IllegalArgumentException("'" + given + "' is not an input of the embedded model");
      }
    }
    if (g.getSparseInitializerCount() > 0) {
      throw new IllegalArgumentException("the model has sparse initializers");
    }
    for (Onnx.TensorProto t : g.getInitializerList()) {
      if (t.getDataLocation() == Onnx.TensorProto.DataLocation.EXTERNAL) {
        throw new IllegalArgumentException("the model keeps tensor '" + t.getName() + "' in external data");
      }
      String name = claimValue(prefix + t.getName());
      renamed.put(t.getName(), name);
      initializers.put(name, t.toBuilder().setName(name).build());
    }
    // values first, so that no node name takes a name a later value needs
    Map<String, String> produced = new LinkedHashMap<>();
    for (Onnx.NodeProto n : g.getNodeList()) {
      for (String output : n.getOutputList()) {
        if (!output.isEmpty()) {
          produced.put(output, claimValue(prefix + output));
        }
      }
    }
    java.util.function.UnaryOperator<String> rename = n -> n.isEmpty() ? n
        : renamed.containsKey(n) ? renamed.get(n) : produced.getOrDefault(n, prefix + n);
    for (Onnx.NodeProto n : g.getNodeList()) {
      Onnx.NodeProto.Builder node = n.toBuilder().clearInput().clearOutput().clearAttribute();
      for (String input : n.getInputList()) {
        if (!input.isEmpty() && !renamed.containsKey(input)) {
          throw new IllegalArgumentException("Node '" + n.getName() + "' of the embedded model reads '" + input
              + "', which nothing before it produces");
        }
        node.addInput(rename.apply(input));
      }
      for (String output : n.getOutputList()) {
        if (!output.isEmpty()) {
          renamed.put(output, produced.get(output));
        }
        node.addOutput(rename.apply(output));
      }
      for (Onnx.AttributeProto a : n.getAttributeList()) {
        node.addAttribute(renameSubgraphs(a, rename));
      }
      node.setName(unique(prefix + (n.getName().isEmpty() ? n.getOpType() : n.getName())));
      nodes.add(node.build());
    }
    for (Onnx.OperatorSetIdProto opset : model.getOpsetImportList()) {
      opsets.merge(opset.getDomain(), opset.getVersion(), Math::max);
    }
    irVersion = Math.max(irVersion, model.getIrVersion());
    for (Onnx.FunctionProto f : model.getFunctionsList()) {
      boolean taken = functions.stream().anyMatch(o -> o.getName().equals(f.getName()) && o.getDomain().equals(f.getDomain()));
      if (taken) {
        throw new IllegalArgumentException("the model's local function " + f.getDomain() + "." + f.getName()
            + " has the name of one already added");
      }
      functions.add(f);
    }
    return renamed;
  }

  /** {@code a} with every value name inside its subgraphs renamed. */
  private static Onnx.AttributeProto renameSubgraphs(Onnx.AttributeProto a, java.util.function.UnaryOperator<String> rename) {
    if (!a.hasG() && a.getGraphsCount() == 0) {
      return a;
    }
    Onnx.AttributeProto.Builder b = a.toBuilder();
    if (a.hasG()) {
      b.setG(renameGraph(a.getG(), rename));
    }
    b.clearGraphs();
    a.getGraphsList().forEach(g -> b.addGraphs(renameGraph(g, rename)));
    return b.build();
  }

  private static Onnx.GraphProto renameGraph(Onnx.GraphProto g, java.util.function.UnaryOperator<String> rename) {
    Onnx.GraphProto.Builder b = g.toBuilder().clearInput().clearOutput().clearInitializer().clearNode().clearValueInfo();
    g.getInputList().forEach(v -> b.addInput(v.toBuilder().setName(rename.apply(v.getName()))));
    g.getOutputList().forEach(v -> b.addOutput(v.toBuilder().setName(rename.apply(v.getName()))));
    g.getValueInfoList().forEach(v -> b.addValueInfo(v.toBuilder().setName(rename.apply(v.getName()))));
    g.getInitializerList().forEach(t -> b.addInitializer(t.toBuilder().setName(rename.apply(t.getName()))));
    for (Onnx.NodeProto n : g.getNodeList()) {
      Onnx.NodeProto.Builder node = n.toBuilder().clearInput().clearOutput().clearAttribute()
          .setName(rename.apply(n.getName()));
      n.getInputList().forEach(i -> node.addInput(rename.apply(i)));
      n.getOutputList().forEach(o -> node.addOutput(rename.apply(o)));
      n.getAttributeList().forEach(a -> node.addAttribute(renameSubgraphs(a, rename)));
      b.addNode(node);
    }
    return b.build();
  }

  /** Every value name the subgraphs of an attribute read. */
  private static void subgraphNames(Onnx.AttributeProto a, Deque<String> into) {
    List<Onnx.GraphProto> graphs = new ArrayList<>(a.getGraphsList());
    if (a.hasG()) {
      graphs.add(a.getG());
    }
    for (Onnx.GraphProto g : graphs) {
      for (Onnx.NodeProto n : g.getNodeList()) {
        n.getInputList().stream().filter(i -> !i.isEmpty()).forEach(into::add);
        n.getAttributeList().forEach(inner -> subgraphNames(inner, into));
      }
    }
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
