package io.bottleneck.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

/**
 * {@link TinyOnnx}'s network as a TensorFlow SavedModel written by TensorFlow Java 0.5.0, for
 * tests of declared SavedModel bases (no file from outside the project): the same seeded
 * weights (drawn in the same order), so {@link #reference} is TinyOnnx's.
 *
 * <p>Graph: placeholder {@code images} float {@code [N,S,S,3]} (or {@code [N,3,S,S]},
 * transposed to NHWC first) → 3x3 convolution with {@link TinyOnnx#CHANNELS} outputs, stride 2,
 * VALID padding, the kernel a variable (restored from {@code variables/} when loaded) → bias →
 * ReLU = operation {@code relu_map} (NHWC) → mean over H and W = {@code features}. Signature
 * {@code serving_default}: input {@code images}; outputs {@code features} {@code [N,8]},
 * {@code map} (the ReLU map in the model's layout) and {@code label} (int64 argmax). A second
 * signature {@code map_only} has the map alone.
 */
public final class TinySavedModel {
  public static final int CHANNELS = TinyOnnx.CHANNELS;

  private final long seed;
  private final float[] kernel; // [out][in][3][3], as TinyOnnx
  private final float[] bias;
  private final int size;
  private final boolean nhwc;

  public TinySavedModel(long seed, int size, boolean nhwc) {
    TinyOnnx weights = new TinyOnnx(seed, size, nhwc);
    kernel = weights.kernel();
    bias = weights.bias();
    this.seed = seed;
    this.size = size;
    this.nhwc = nhwc;
  }

  /** Writes the SavedModel into {@code dir} (replacing it); {@code dynamicSize} leaves H and W open. */
  public Path export(Path dir, boolean dynamicSize) throws IOException {
    deleteRecursively(dir);
    long s = dynamicSize ? -1 : size;
    // TF's kernel layout: [kH, kW, in, out]
    float[] hwio = new float[kernel.length];
    for (int o = 0; o < CHANNELS; o++) {
      for (int c = 0; c < 3; c++) {
        for (int ky = 0; ky < 3; ky++) {
          for (int kx = 0; kx < 3; kx++) {
            hwio[((ky * 3 + kx) * 3 + c) * CHANNELS + o] = kernel[((o * 3 + c) * 3 + ky) * 3 + kx];
          }
        }
      }
    }
    try (Graph g = new Graph(); Session session = new Session(g)) {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> images = tf.withName("images").placeholder(TFloat32.class,
          Placeholder.shape(nhwc ? Shape.of(-1, s, s, 3) : Shape.of(-1, 3, s, s)));
      Operand<TFloat32> x = nhwc ? images : tf.linalg.transpose(images, tf.constant(new int[] {0, 2, 3, 1}));
      Operand<TFloat32> w = tf.withName("kernel").variable(
          tf.constant(Shape.of(3, 3, 3, CHANNELS), DataBuffers.of(hwio, true, false)));
      Operand<TFloat32> conv = tf.nn.biasAdd(tf.nn.conv2d(x, w, List.of(1L, 2L, 2L, 1L), "VALID"),
          tf.constant(bias));
      Operand<TFloat32> map = tf.withName("relu_map").nn.relu(conv);
      Operand<TFloat32> mapOut = nhwc ? map : tf.linalg.transpose(map, tf.constant(new int[] {0, 3, 1, 2}));
      Operand<TFloat32> features = tf.withName("features").math.mean(map, tf.constant(new int[] {1, 2}));
      Operand<?> label = tf.withName("label").math.argMax(features, tf.constant(1));
      session.initialize();
      SavedModelBundle.exporter(dir.toString()).withSession(session)
          .withSignatures(
              Signature.builder().key("serving_default").input("images", images)
                  .output("features", features).output("map", mapOut).output("label", label).build(),
              Signature.builder().key("map_only").input("images", images).output("map", mapOut).build())
          .export();
    }
    return dir;
  }

  /** The features from one preprocessed NCHW image, as {@link TinyOnnx#reference}. */
  public float[] reference(float[] nchw, int side, boolean max) {
    return new TinyOnnx(seed, size, false).reference(nchw, side, max);
  }

  public static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
