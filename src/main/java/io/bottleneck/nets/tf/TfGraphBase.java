package io.bottleneck.nets.tf;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.AbstractImageBase;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import java.awt.image.BufferedImage;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.BiFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.exceptions.TFInvalidArgumentException;
import org.tensorflow.ndarray.NdArrays;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.image.DecodeJpeg;
import org.tensorflow.op.image.ResizeBilinear;
import org.tensorflow.proto.framework.ConfigProto;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.TUint8;

/**
 * An {@link ImageBase} on the TensorFlow engine: a TF Java graph built with the Ops API from
 * the Keras weights, one NHWC float input {@code [n, size, size, 3]} and one
 * {@code [n, featureSize]} output. Subclasses only build the graph.
 *
 * <p>The session runs with one intra-op thread: Spark already runs one task per core, so a
 * second thread per forward pass only adds contention. TF's thread pools are process-wide and
 * sized by the first session created in the JVM; all sessions here use the same settings.
 *
 * <p>{@link #readInput} decodes plain JPEGs ({@link Images#isPlainJpeg}) inside the graph too:
 * TF's libjpeg-turbo with the accurate integer IDCT gives the same pixels as the Java decoder
 * (Java's libjpeg uses the same IDCT and upsampling), and TF's half-pixel bilinear resize is the
 * one {@link Preprocessing} implements, with the same float weights, so inputs equal the Java
 * path's (checked by TfJpegInputTest) at ~1.5-3 instead of ~4-6 ms per image. Other files go
 * through {@link Images#decode} and {@link Preprocessing}.
 *
 * <p>Holds a native TF graph and session: {@link #close()} releases them (a {@link Cleaner}
 * does it when an unclosed instance is garbage collected). Not thread-safe, like every base.
 */
abstract class TfGraphBase extends AbstractImageBase {

  /**
   * Inter-op threads for the sessions. -1 runs each step in the calling thread, so N Spark
   * task threads give N parallel forward passes without sharing TF's process-wide inter-op
   * pool. Overridable with the system property {@code bottleneck.tf.inter-op-threads}.
   */
  static final int INTER_OP_THREADS = Integer.getInteger("bottleneck.tf.inter-op-threads", -1);
  /** Intra-op threads (see the class comment). */
  static final int INTRA_OP_THREADS = Integer.getInteger("bottleneck.tf.intra-op-threads", 1);

  private static final Cleaner CLEANER = Cleaner.create();
  private static final Logger LOG = LoggerFactory.getLogger(TfGraphBase.class);

  private final int featureSize;
  private final Graph graph;
  private final Session session;
  private final Operand<TFloat32> input;
  private final Operand<TFloat32> output;
  private final Operand<TString> jpegFile;
  private final Operand<TFloat32> jpegInput;
  private final Cleaner.Cleanable cleanable;
  private boolean closed;
  private long graphDecodes;

  /**
   * Builds the graph with {@code builder} (given the ops and the NHWC input placeholder) and
   * opens a session on it. The graph is closed again if building fails.
   */
  TfGraphBase(String id, Preprocessing preprocessing, int featureSize,
      BiFunction<Ops, Operand<TFloat32>, Operand<TFloat32>> builder) {
    super(id, preprocessing);
    this.featureSize = featureSize;
    int s = preprocessing.size();
    TfRuntime.init(); // before the first TF class loads the natives
    Graph g = new Graph();
    Session sess = null;
    try {
      Ops tf = Ops.create(g);
      Placeholder<TFloat32> in = tf.withName("input").placeholder(TFloat32.class,
          Placeholder.shape(Shape.of(-1, s, s, 3)));
      Operand<TFloat32> out = builder.apply(tf, in);
      Placeholder<TString> file = tf.withName("jpeg_file").placeholder(TString.class,
          Placeholder.shape(Shape.scalar()));
      this.jpegInput = jpegInput(tf, file, preprocessing);
      this.jpegFile = file;
      ConfigProto config = ConfigProto.newBuilder()
          .setIntraOpParallelismThreads(INTRA_OP_THREADS)
          .setInterOpParallelismThreads(INTER_OP_THREADS)
          .build();
      sess = new Session(g, config);
      this.input = in;
      this.output = out;
    } catch (RuntimeException | Error e) {
      if (sess != null) {
        sess.close();
      }
      g.close();
      throw e;
    }
    this.graph = g;
    this.session = sess;
    this.cleanable = CLEANER.register(this, new Release(session, graph));
  }

  @Override
  public int featureSize() {
    return featureSize;
  }

  @Override
  public String engine() {
    return Bases.ENGINE_TENSORFLOW;
  }

  @Override
  public boolean channelsLast() {
    return true;
  }

  @Override
  public float[][] featurize(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    checkOpen();
    if (images.isEmpty()) {
      return new float[0][];
    }
    return forward(preprocessing().toNhwc(images), images.size());
  }

  @Override
  public void readInput(byte[] file, String name, float[] batch, int index)
      throws UndecodableImageException {
    checkOpen();
    int s = preprocessing().size();
    int perImage = 3 * s * s;
    int at = Math.multiplyExact(index, perImage);
    if (Images.isPlainJpeg(file)) {
      try (TString in = TString.tensorOfBytes(NdArrays.scalarOfObject(file));
          Result result = session.runner().feed(jpegFile, in).fetch(jpegInput).run()) {
        TFloat32 out = (TFloat32) result.get(0);
        if (out.size() != perImage) {
          throw new IllegalStateException("Decoded input of " + name + " has shape "
              + out.shape() + ", expected [1, " + s + ", " + s + ", 3]");
        }
        out.read(DataBuffers.of(batch, false, false).slice(at, perImage));
        graphDecodes++;
        return;
      } catch (TFInvalidArgumentException e) {
        // TF's decoder refused a file the header check let through: the Java decoder decides,
        // and names the reason if it fails too
        LOG.debug("TensorFlow could not decode {} ({}); decoding it in Java", name,
            e.getMessage());
      }
    }
    preprocessing().fillNhwc(Images.decode(file, name), batch, at);
  }

  /** Forward pass over an already preprocessed NHWC batch. */
  @Override
  public float[][] forward(float[] nhwc, int n) {
    checkOpen();
    int s = preprocessing().size();
    try (TFloat32 in = TFloat32.tensorOf(Shape.of(n, s, s, 3), DataBuffers.of(nhwc, true, false));
        Result result = session.runner().feed(input, in).fetch(output).run()) {
      TFloat32 out = (TFloat32) result.get(0);
      long[] shape = out.shape().asArray();
      if (shape.length != 2 || shape[0] != n || shape[1] != featureSize) {
        throw new IllegalStateException("Network output has shape " + Arrays.toString(shape)
            + ", expected [" + n + ", " + featureSize + "]");
      }
      float[] flat = new float[n * featureSize];
      out.read(DataBuffers.of(flat, false, false));
      float[][] rows = new float[n][];
      for (int i = 0; i < n; i++) {
        rows[i] = Arrays.copyOfRange(flat, i * featureSize, (i + 1) * featureSize);
      }
      return rows;
    }
  }

  /** How many files {@link #readInput} decoded in the graph (for tests). */
  long graphDecodes() {
    return graphDecodes;
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("Base " + id() + " (" + engine() + ") is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
    cleanable.clean(); // runs Release at most once
  }

  /** Closes session then graph; holds no reference to the base, so the base can be collected. */
  private record Release(Session session, Graph graph) implements Runnable {
    @Override
    public void run() {
      try {
        session.close();
      } finally {
        graph.close();
      }
    }
  }

  // ------------------------------------------------------------------ graph-building helpers

  /** A float constant of the given shape. */
  static Operand<TFloat32> constant(Ops tf, float[] values, long... shape) {
    return tf.constant(Shape.of(shape), DataBuffers.of(values, true, false));
  }

  /** Fails unless {@code tensor} has exactly the expected Keras shape. */
  static void checkShape(String what, INDArray tensor, long... expected) {
    if (!Arrays.equals(tensor.shape(), expected)) {
      throw new IllegalStateException("Shape mismatch for " + what + ": Keras "
          + Arrays.toString(tensor.shape()) + ", expected " + Arrays.toString(expected));
    }
  }

  /** Strides list for an NHWC op. */
  static List<Long> strides(int stride) {
    return List.of(1L, (long) stride, (long) stride, 1L);
  }

  /**
   * One JPEG file to a {@code [1, size, size, 3]} network input, the graph version of
   * {@link Images#decode} + {@link Preprocessing#fillNhwc}: decode to RGB with the accurate
   * integer IDCT (libjpeg's default, which the Java decoder uses; TF's own default is the fast
   * one, up to 4/255 off), half-pixel bilinear resize in float, then the per-channel affine map.
   */
  static Operand<TFloat32> jpegInput(Ops tf, Operand<TString> file, Preprocessing p) {
    Operand<TUint8> rgb = tf.image.decodeJpeg(file, DecodeJpeg.channels(3L),
        DecodeJpeg.dctMethod("INTEGER_ACCURATE"));
    Operand<TFloat32> pixels = tf.image.resizeBilinear(tf.expandDims(rgb, tf.constant(0)),
        tf.constant(new int[] {p.size(), p.size()}), ResizeBilinear.halfPixelCenters(true));
    if (p.bgr()) {
      pixels = tf.reverse(pixels, tf.constant(new int[] {3}));
    }
    return tf.math.add(tf.math.mul(pixels, constant(tf, p.scale(), 3)),
        constant(tf, p.offset(), 3));
  }

  /** Global average pooling: mean over H and W of an NHWC tensor. */
  static Operand<TFloat32> globalAveragePool(Ops tf, Operand<TFloat32> x) {
    return tf.math.mean(x, tf.constant(new int[] {1, 2}));
  }
}
