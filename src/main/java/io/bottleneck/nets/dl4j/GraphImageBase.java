package io.bottleneck.nets.dl4j;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.AbstractImageBase;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An {@link ImageBase} backed by a DL4J {@link ComputationGraph} with one NCHW image input and
 * one {@code [n, featureSize]} output. Not thread-safe (the graph is not).
 */
public abstract class GraphImageBase extends AbstractImageBase {

  private final ComputationGraph graph;
  private final int featureSize;

  GraphImageBase(String id, ComputationGraph graph, Preprocessing preprocessing,
      int featureSize) {
    super(id, preprocessing);
    this.graph = graph;
    this.featureSize = featureSize;
  }

  @Override
  public int featureSize() {
    return featureSize;
  }

  @Override
  public float[][] featurize(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    if (images.isEmpty()) {
      return new float[0][];
    }
    return forward(preprocessing().toNchw(images), images.size());
  }

  @Override
  public void readInput(byte[] file, String name, float[] batch, int index)
      throws UndecodableImageException {
    int perImage = 3 * preprocessing().size() * preprocessing().size();
    preprocessing().fill(Images.decode(file, name), batch, Math.multiplyExact(index, perImage));
  }

  /** Forward pass over an already preprocessed NCHW batch. */
  @Override
  public float[][] forward(float[] nchw, int n) {
    int s = preprocessing().size();
    // close() frees the off-heap buffers now instead of waiting for GC
    try (INDArray input = Nd4j.create(nchw, new long[] {n, 3, s, s}, 'c');
        INDArray out = graph.outputSingle(false, input)) {
      long[] shape = out.shape();
      if (shape.length != 2 || shape[0] != n || shape[1] != featureSize) {
        throw new IllegalStateException("Network output has shape "
            + Arrays.toString(shape) + ", expected [" + n + ", " + featureSize + "]");
      }
      return out.toFloatMatrix();
    }
  }

  /**
   * The activations of layer {@code layer} for an NCHW batch, flattened per image in NCHW order:
   * the output of a base without its last blocks (see {@link Bases#TAIL}).
   */
  float[][] activationsOf(String layer, float[] nchw, int n) {
    int s = preprocessing().size();
    try (INDArray input = Nd4j.create(nchw, new long[] {n, 3, s, s}, 'c')) {
      INDArray activation = graph.feedForward(new INDArray[] {input}, false, false).get(layer);
      if (activation == null || activation.length() != (long) n * featureSize) {
        throw new IllegalStateException("Layer " + layer + " gives " + (activation == null ? "nothing" : activation.shapeInfoToString())
            + ", expected " + n + " x " + featureSize + " values");
      }
      return activation.reshape('c', n, featureSize).toFloatMatrix();
    }
  }

  /** For tests: the underlying graph. */
  public ComputationGraph graph() {
    return graph;
  }
}
