package io.bottleneck.nets;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.Hdf5Archive;
import org.deeplearning4j.nn.modelimport.keras.exceptions.UnsupportedKerasConfigurationException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * All weight tensors of a Keras weights-only {@code .h5} file, keyed by their full HDF5 path
 * (e.g. {@code conv1/conv1/kernel:0}, {@code fire2/expand1x1/fire2/expand1x1_b}), copied into
 * DL4J layers of the same name.
 *
 * <p>Every tensor taken and every DL4J parameter assigned is recorded, so {@link #verify}
 * can fail loudly when the file and the architecture do not match exactly (a missing layer,
 * a leftover tensor, an unassigned parameter, a wrong shape).
 */
public final class KerasWeights {

  private final Map<String, INDArray> remaining;
  private final long totalValues;
  private final Set<String> assignedParams = new HashSet<>();

  private KerasWeights(Map<String, INDArray> tensors) {
    this.remaining = tensors;
    this.totalValues = tensors.values().stream().mapToLong(INDArray::length).sum();
  }

  /** Reads the bytes of an {@code .h5} file through a temporary file, deleted afterwards. */
  public static KerasWeights read(byte[] h5Bytes) {
    if (h5Bytes == null || h5Bytes.length == 0) {
      throw new IllegalArgumentException("Keras weight bytes are empty");
    }
    Path tmp = null;
    try {
      tmp = Files.createTempFile("bottleneck-weights-", ".h5");
      Files.write(tmp, h5Bytes);
      return read(tmp);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stage Keras weights in a temporary file", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // the weights are already read; a leftover temp file is not worth failing for
          tmp.toFile().deleteOnExit();
        }
      }
    }
  }

  static KerasWeights read(Path h5) {
    Map<String, INDArray> tensors = new LinkedHashMap<>();
    try (Hdf5Archive archive = new Hdf5Archive(h5.toString())) {
      collect(archive, new ArrayList<>(), tensors);
    } catch (UnsupportedKerasConfigurationException e) {
      throw new IllegalArgumentException("Unsupported tensor in Keras weights " + h5, e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("Cannot read Keras weights from " + h5, e);
    }
    if (tensors.isEmpty()) {
      throw new IllegalArgumentException("No weight tensors in " + h5);
    }
    return new KerasWeights(tensors);
  }

  private static void collect(Hdf5Archive archive, List<String> groups, Map<String, INDArray> out)
      throws UnsupportedKerasConfigurationException {
    String[] path = groups.toArray(new String[0]);
    String prefix = groups.isEmpty() ? "" : String.join("/", groups) + "/";
    for (String dataset : archive.getDataSets(path)) {
      out.put(prefix + dataset, archive.readDataSet(dataset, path));
    }
    for (String group : archive.getGroups(path)) {
      groups.add(group);
      collect(archive, groups, out);
      groups.remove(groups.size() - 1);
    }
  }

  /** Number of float values in the file. */
  public long totalValues() {
    return totalValues;
  }

  /**
   * Conv2D: kernel {@code [kH,kW,in,out]} becomes DL4J {@code W [out,in,kH,kW]}; the bias, if
   * the layer has one, is copied to {@code b}.
   */
  public void copyConv(ComputationGraph graph, String layer) {
    Conv conv = takeConv(layer);
    assign(graph, layer, "W", conv.kernel().permute(3, 2, 0, 1));
    if (conv.bias() != null) {
      assign(graph, layer, "b", conv.bias());
    }
  }

  /** DepthwiseConv2D: kernel {@code [kH,kW,C,multiplier]} is DL4J's layout already. */
  public void copyDepthwise(ComputationGraph graph, String layer) {
    assign(graph, layer, "W", takeDepthwise(layer));
  }

  /** BatchNormalization: gamma, beta, moving mean and moving variance (not log-std). */
  public void copyBatchNorm(ComputationGraph graph, String layer) {
    for (Map.Entry<String, INDArray> e : takeBatchNorm(layer).entrySet()) {
      assign(graph, layer, e.getKey(), e.getValue());
    }
  }

  /** A Conv2D layer's tensors in Keras layout: kernel {@code [kH,kW,in,out]}, bias or null. */
  public record Conv(INDArray kernel, INDArray bias) {}

  /**
   * Removes and returns a Conv2D layer's kernel and optional bias, as stored (Keras layout,
   * which is also TensorFlow's HWIO). For engines that do not hold a DL4J graph.
   */
  public Conv takeConv(String layer) {
    Map<String, INDArray> t = take(layer);
    INDArray kernel = null;
    INDArray bias = null;
    for (Map.Entry<String, INDArray> e : t.entrySet()) {
      int rank = e.getValue().rank();
      if (rank == 4 && kernel == null) {
        kernel = e.getValue();
      } else if (rank == 1 && bias == null) {
        bias = e.getValue();
      } else {
        throw new IllegalStateException("Unexpected tensor " + e.getKey() + " "
            + Arrays.toString(e.getValue().shape()) + " for convolution " + layer);
      }
    }
    if (kernel == null) {
      throw new IllegalStateException("No kernel for convolution " + layer + " in " + t.keySet());
    }
    return new Conv(kernel, bias);
  }

  /** Removes and returns a DepthwiseConv2D kernel {@code [kH,kW,C,multiplier]}. */
  public INDArray takeDepthwise(String layer) {
    Map<String, INDArray> t = take(layer);
    if (t.size() != 1) {
      throw new IllegalStateException("Expected one depthwise kernel for " + layer + ": "
          + t.keySet());
    }
    return t.values().iterator().next();
  }

  /**
   * Removes and returns a BatchNormalization layer's tensors keyed {@code gamma}, {@code beta},
   * {@code mean} and {@code var} (Keras keeps the variance, not a log-std).
   */
  public Map<String, INDArray> takeBatchNorm(String layer) {
    Map<String, INDArray> t = take(layer);
    Map<String, String> keyBySuffix = Map.of(
        "gamma:0", "gamma", "beta:0", "beta", "moving_mean:0", "mean",
        "moving_variance:0", "var");
    if (t.size() != keyBySuffix.size()) {
      throw new IllegalStateException("Expected 4 batch-norm tensors for " + layer + ": "
          + t.keySet());
    }
    Map<String, INDArray> byKey = new LinkedHashMap<>();
    for (Map.Entry<String, INDArray> e : t.entrySet()) {
      String name = e.getKey().substring(e.getKey().lastIndexOf('/') + 1);
      String key = keyBySuffix.get(name);
      if (key == null) {
        throw new IllegalStateException("Unexpected batch-norm tensor " + e.getKey());
      }
      byKey.put(key, e.getValue());
    }
    return byKey;
  }

  /** A tensor's values in c order (row-major over its Keras shape). */
  public static float[] values(INDArray tensor) {
    // a fresh c-ordered copy owns exactly its values, in row-major order
    float[] values = tensor.castTo(DataType.FLOAT).dup('c').data().asFloat();
    if (values.length != tensor.length()) {
      throw new IllegalStateException("Expected " + tensor.length() + " values, got "
          + values.length + " for " + tensor.shapeInfoToString());
    }
    return values;
  }

  /**
   * For engines without a DL4J graph: fails unless every tensor of the file was taken and the
   * file holds exactly {@code expectedParams} values.
   */
  public void verifyAllTaken(long expectedParams) {
    if (!remaining.isEmpty()) {
      throw new IllegalStateException("Weight tensors not used by the architecture: "
          + new TreeSet<>(remaining.keySet()));
    }
    if (totalValues != expectedParams) {
      throw new IllegalStateException("Expected " + expectedParams + " parameters; the file has "
          + totalValues);
    }
  }

  /**
   * Fails unless every tensor of the file was copied and every parameter of the graph was
   * assigned, the two counts being equal to {@code expectedParams}.
   */
  public void verify(ComputationGraph graph, long expectedParams) {
    if (!remaining.isEmpty()) {
      throw new IllegalStateException("Weight tensors not used by the architecture: "
          + new TreeSet<>(remaining.keySet()));
    }
    Set<String> unassigned = new TreeSet<>(graph.paramTable().keySet());
    unassigned.removeAll(assignedParams);
    if (!unassigned.isEmpty()) {
      throw new IllegalStateException("Parameters without pretrained weights: " + unassigned);
    }
    if (totalValues != expectedParams || graph.numParams() != expectedParams) {
      throw new IllegalStateException("Expected " + expectedParams + " parameters; the file has "
          + totalValues + ", the network " + graph.numParams());
    }
  }

  /** Removes and returns the tensors stored under the Keras layer's group. */
  private Map<String, INDArray> take(String layer) {
    String prefix = layer + "/";
    Map<String, INDArray> taken = new LinkedHashMap<>();
    remaining.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(prefix)) {
        taken.put(e.getKey(), e.getValue());
        return true;
      }
      return false;
    });
    if (taken.isEmpty()) {
      throw new IllegalStateException("Keras layer '" + layer + "' not found in the weights file");
    }
    return taken;
  }

  private void assign(ComputationGraph graph, String layer, String key, INDArray value) {
    Layer l = graph.getLayer(layer);
    if (l == null) {
      throw new IllegalStateException("No DL4J layer named " + layer);
    }
    INDArray param = l.getParam(key);
    if (param == null) {
      throw new IllegalStateException("DL4J layer " + layer + " has no parameter " + key);
    }
    long[] want = param.shape();
    INDArray v = value;
    if (!Arrays.equals(want, v.shape())) {
      // a bias may be stored as [n] but held as [1, n]: same values, same order
      if (v.length() == param.length() && v.rank() == 1 && param.rank() == 2 && want[0] == 1) {
        v = v.reshape(want);
      } else {
        throw new IllegalStateException("Shape mismatch for " + layer + "." + key + ": Keras "
            + Arrays.toString(value.shape()) + ", DL4J " + Arrays.toString(want));
      }
    }
    param.assign(v);
    if (!assignedParams.add(layer + "_" + key)) {
      throw new IllegalStateException("Parameter assigned twice: " + layer + "_" + key);
    }
  }
}
