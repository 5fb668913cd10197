package io.bottleneck.nets.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import onnx.Onnx;

/**
 * Reading and cutting users' ONNX graphs with the classes generated from ONNX's own
 * {@code onnx.proto}.
 */
public final class OnnxModels {

  private OnnxModels() {}

  /** Thrown when an ONNX file does not parse; names the file. */
  public static final class NotOnnxException extends IllegalArgumentException {
    NotOnnxException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Thrown when the wanted output is no value of the graph; carries the nearest names. */
  public static final class NoSuchValueException extends IllegalArgumentException {
    private final List<String> nearest;

    NoSuchValueException(String message, List<String> nearest) {
      super(message);
      this.nearest = List.copyOf(nearest);
    }

    public List<String> nearest() {
      return nearest;
    }
  }

  /** Parses a model; fails naming {@code source} when the bytes are not an ONNX model. */
  public static Onnx.ModelProto parse(byte[] model, String source) {
    try {
      Onnx.ModelProto proto = Onnx.ModelProto.parseFrom(model);
      if (!proto.hasGraph() || proto.getGraph().getNodeCount() == 0) {
        throw new NotOnnxException(source + " is not an ONNX model (no graph)", null);
      }
      return proto;
    } catch (InvalidProtocolBufferException e) {
      throw new NotOnnxException(source + " is not an ONNX model: " + e.getMessage(), e);
    }
  }

  /**
   * The files the model keeps tensor data in (ONNX external data: models over protobuf's 2 GB
   * limit must use it), as their locations relative to the model file's folder, sorted and
   * distinct; empty for a self-contained model. Covers initializers and tensor attributes of
   * every node, in subgraphs too.
   *
   * @throws IllegalArgumentException naming {@code source} and the location when one is absolute
   *     or leaves the model's folder (ONNX Runtime would read a file elsewhere)
   */
  public static List<String> externalDataFiles(byte[] model, String source) {
    java.util.TreeSet<String> locations = new java.util.TreeSet<>();
    collectExternal(parse(model, source).getGraph(), locations);
    for (String location : locations) {
      java.nio.file.Path p = java.nio.file.Path.of(location).normalize();
      if (location.isEmpty() || p.isAbsolute() || p.startsWith("..") || location.contains("\\")) {
        throw new IllegalArgumentException(source + " keeps tensor data in '" + location
            + "'; external data must lie in the model's folder or below it (a relative location without '..')");
      }
    }
    return List.copyOf(locations);
  }

  private static void collectExternal(Onnx.GraphProto graph, Set<String> locations) {
    graph.getInitializerList().forEach(t -> collectExternal(t, locations));
    for (Onnx.NodeProto node : graph.getNodeList()) {
      for (Onnx.AttributeProto a : node.getAttributeList()) {
        if (a.hasT()) {
          collectExternal(a.getT(), locations);
        }
        a.getTensorsList().forEach(t -> collectExternal(t, locations));
        if (a.hasG()) {
          collectExternal(a.getG(), locations);
        }
        a.getGraphsList().forEach(g -> collectExternal(g, locations));
      }
    }
  }

  private static void collectExternal(Onnx.TensorProto tensor, Set<String> locations) {
    if (tensor.getDataLocation() != Onnx.TensorProto.DataLocation.EXTERNAL) {
      return;
    }
    for (Onnx.StringStringEntryProto e : tensor.getExternalDataList()) {
      if (e.getKey().equals("location")) {
        locations.add(e.getValue());
      }
    }
  }

  /**
   * The model with {@code output} as its only output, so ONNX Runtime computes only what leads
   * to it (the nodes after it, such as a classifier, are dropped when the session is built):
   * SynapseML's "slice at outputs". {@code output} may be a graph output or any node's output.
   *
   * @throws NoSuchValueException naming the nearest value names when the graph has no such value
   */
  public static byte[] cutAt(byte[] model, String output, String source) {
    Onnx.ModelProto proto = parse(model, source);
    Onnx.GraphProto graph = proto.getGraph();
    Onnx.ValueInfoProto info = null;
    for (Onnx.ValueInfoProto o : graph.getOutputList()) {
      if (o.getName().equals(output)) {
        info = o;
      }
    }
    if (info == null) {
      if (!producedValues(graph).contains(output)) {
        List<String> nearest = nearest(output, valueNames(graph), 8);
        throw new NoSuchValueException("the graph of " + source + " has no value '" + output
            + "'; nearest names: " + String.join(", ", nearest), nearest);
      }
      info = valueInfo(graph, output);
    }
    if (graph.getOutputCount() == 1 && graph.getOutput(0).getName().equals(output)) {
      return model;
    }
    Onnx.GraphProto cut = graph.toBuilder().clearOutput().addOutput(info).build();
    return proto.toBuilder().setGraph(cut).build().toByteArray();
  }

  /** Every value a node of the graph produces, then the graph's inputs, in graph order. */
  public static List<String> valueNames(Onnx.GraphProto graph) {
    Set<String> names = new LinkedHashSet<>(producedValues(graph));
    Set<String> initializers = new LinkedHashSet<>();
    graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
    for (Onnx.ValueInfoProto in : graph.getInputList()) {
      if (!initializers.contains(in.getName())) {
        names.add(in.getName());
      }
    }
    return new ArrayList<>(names);
  }

  private static Set<String> producedValues(Onnx.GraphProto graph) {
    Set<String> names = new LinkedHashSet<>();
    for (Onnx.NodeProto node : graph.getNodeList()) {
      for (String out : node.getOutputList()) {
        if (!out.isEmpty()) {
          names.add(out);
        }
      }
    }
    return names;
  }

  /** The graph's type information for a value, else a float tensor of unknown shape. */
  private static Onnx.ValueInfoProto valueInfo(Onnx.GraphProto graph, String name) {
    for (Onnx.ValueInfoProto v : graph.getValueInfoList()) {
      if (v.getName().equals(name) && v.hasType()) {
        return v;
      }
    }
    // ONNX Runtime infers the real type and shape; the output's element type is checked on the
    // session (a non-float output is refused there)
    return Onnx.ValueInfoProto.newBuilder()
        .setName(name)
        .setType(Onnx.TypeProto.newBuilder()
            .setTensorType(Onnx.TypeProto.Tensor.newBuilder()
                .setElemType(Onnx.TensorProto.DataType.FLOAT_VALUE)))
        .build();
  }

  /** Up to {@code k} of {@code names}, closest to {@code wanted} first (edit distance, case-insensitive). */
  public static List<String> nearest(String wanted, List<String> names, int k) {
    String w = wanted.toLowerCase();
    return names.stream()
        .sorted(Comparator.comparingInt((String n) -> distance(w, n.toLowerCase()))
            .thenComparing(Comparator.naturalOrder()))
        .limit(k)
        .toList();
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitution = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(substitution, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
