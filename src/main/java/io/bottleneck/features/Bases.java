package io.bottleneck.features;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The supported frozen bases and their bundled Keras weights.
 *
 * <p>On Spark, broadcast {@link #weights(String)} once and call {@link #fromWeights} on each
 * executor thread: instances are not thread-safe and weight bytes travel better than a graph.
 *
 * <p>Each base runs on one of two engines built from the same weights: {@link #ENGINE_DL4J}
 * (DL4J ComputationGraph, NCHW) and {@link #ENGINE_TENSORFLOW} (TensorFlow Java graph, NHWC,
 * BatchNorm folded into the convolutions; measured 3x (SqueezeNet) to 7x (MobileNet) faster
 * on one thread, more on an idle machine). Both give the same features to within
 * 1e-4 absolute (checked by EnginesTest), so a base reports the same
 * {@link ImageBase#preprocessingId()} on every engine and cached features are shared between
 * them: the cache key means "same preprocessing + same weights = same features". An engine
 * whose features differ more must get its own preprocessing id.
 */
public final class Bases {

  public static final String DEFAULT = MobileNetV1Base.ID;

  /** TensorFlow Java 0.5.0 (TF 2.10, oneDNN), one intra-op thread per instance. */
  public static final String ENGINE_TENSORFLOW = "tensorflow";
  /** DL4J / ND4J ComputationGraph: the reference implementation. */
  public static final String ENGINE_DL4J = "dl4j";
  /** What {@link #load(String)} and {@link #fromWeights(String, byte[])} use. */
  public static final String DEFAULT_ENGINE = ENGINE_TENSORFLOW;

  private static final List<String> ENGINES = List.of(ENGINE_TENSORFLOW, ENGINE_DL4J);

  private static final String WEIGHTS_DIR = "/io/bottleneck/features/weights/";

  private static final List<String> NAMES = List.of(MobileNetV1Base.ID, SqueezeNetBase.ID);

  private static final Map<String, String> RESOURCES = Map.of(
      MobileNetV1Base.ID, WEIGHTS_DIR + "mobilenet_2_5_224_tf_no_top.h5",
      SqueezeNetBase.ID, WEIGHTS_DIR + "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5");

  /** Per engine, per base id: the builder from parsed weights. */
  private static final Map<String, Map<String, Function<KerasWeights, ImageBase>>> BUILDERS =
      Map.of(
          ENGINE_DL4J, Map.of(
              MobileNetV1Base.ID, MobileNetV1Base::fromWeights,
              SqueezeNetBase.ID, SqueezeNetBase::fromWeights),
          ENGINE_TENSORFLOW, Map.of(
              MobileNetV1Base.ID, TfMobileNetBase::fromWeights,
              SqueezeNetBase.ID, TfSqueezeNetBase::fromWeights));

  /**
   * Marks a base id without its last blocks, e.g. {@code mobilenet_v1_0.25@tail1}: the frozen
   * part of a fine-tuned model, whose features are the activations entering the blocks the
   * model trained (see {@link TunableTail}).
   */
  public static final String TAIL = "@tail";

  private Bases() {}

  /** The base an id refers to: the id without a {@link #TAIL} suffix. */
  static String baseOf(String id) {
    int at = id.indexOf(TAIL);
    return at < 0 ? id : id.substring(0, at);
  }

  /** The number of last blocks an id leaves out: 0 without a {@link #TAIL} suffix. */
  static int tailBlocks(String id) {
    int at = id.indexOf(TAIL);
    if (at < 0) {
      return 0;
    }
    String k = id.substring(at + TAIL.length());
    if (!k.matches("[1-9]")) {
      throw new IllegalArgumentException("Base id '" + id + "': expected " + TAIL + "<blocks> (1-9) but found '" + TAIL + k + "'");
    }
    return Integer.parseInt(k);
  }

  /** Supported ids, the default first. */
  public static List<String> names() {
    return NAMES;
  }

  /**
   * The base ids of a base spec: one id, or an ensemble of distinct ids joined by '+' (e.g.
   * {@code mobilenet_v1_0.25+squeezenet_1.1}), whose features are concatenated in that order.
   * Fails naming the spec and the supported ids.
   */
  public static List<String> parseSpec(String spec) {
    Objects.requireNonNull(spec, "base spec");
    List<String> ids = List.of(spec.split("\\+", -1));
    for (String id : ids) {
      if (!RESOURCES.containsKey(baseOf(id)) && PixelsBase.sizeOf(id) < 0) {
        throw new IllegalArgumentException("Unknown base '" + id + "' in '" + spec + "'; supported: "
            + String.join(", ", NAMES) + ", or several joined by '+'");
      }
      check(id);
    }
    if (new java.util.HashSet<>(ids).size() != ids.size()) {
      throw new IllegalArgumentException("Base spec '" + spec + "' names a base twice");
    }
    return ids;
  }

  /** The size of a {@code pixels<size>} pseudo-base id, or -1 for any other id. */
  public static int pixelSize(String id) {
    return PixelsBase.sizeOf(id);
  }

  /** Supported engines: {@code tensorflow, dl4j}. */
  public static List<String> engines() {
    return ENGINES;
  }

  /** The bundled {@code .h5} weight file of a base, as bytes (a fresh copy per call). */
  public static byte[] weights(String id) {
    if (PixelsBase.sizeOf(check(id)) > 0) {
      return new byte[0]; // raw pixels: no weights
    }
    String resource = RESOURCES.get(baseOf(id));
    try (InputStream in = Bases.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("Weights of base '" + id + "' missing from the classpath: "
            + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read weights resource " + resource, e);
    }
  }

  /**
   * Builds a base on the {@link #DEFAULT_ENGINE} from the bytes of its Keras weights file.
   * Fails if any tensor or parameter does not match the architecture.
   */
  public static ImageBase fromWeights(String id, byte[] h5Bytes) {
    return fromWeights(id, h5Bytes, DEFAULT_ENGINE);
  }

  /**
   * Builds a base on the given engine (one of {@link #engines()}) from the bytes of its Keras
   * weights file. Fails if any tensor or parameter does not match the architecture.
   */
  public static ImageBase fromWeights(String id, byte[] h5Bytes, String engine) {
    check(id);
    checkEngine(engine);
    int pixels = PixelsBase.sizeOf(id);
    if (pixels > 0) {
      return new PixelsBase(pixels, engine);
    }
    int tail = tailBlocks(id);
    if (tail > 0) {
      KerasWeights weights = KerasWeights.read(h5Bytes);
      boolean tensorflow = engine.equals(ENGINE_TENSORFLOW);
      if (baseOf(id).equals(SqueezeNetBase.ID)) {
        return tensorflow ? TfSqueezeNetBase.withoutTail(weights, tail) : SqueezeNetBase.withoutTail(weights, tail);
      }
      return tensorflow ? TfMobileNetBase.withoutTail(weights, tail) : MobileNetV1Base.withoutTail(weights, tail);
    }
    Function<KerasWeights, ImageBase> builder = BUILDERS.get(engine).get(id);
    return builder.apply(KerasWeights.read(h5Bytes));
  }

  /** Builds a base on the {@link #DEFAULT_ENGINE} from its bundled weights. */
  public static ImageBase load(String id) {
    return load(id, DEFAULT_ENGINE);
  }

  /** Builds a base on the given engine from its bundled weights. */
  public static ImageBase load(String id, String engine) {
    check(id);
    checkEngine(engine);
    return fromWeights(id, weights(id), engine);
  }

  /** Returns {@code engine} if supported, else fails naming the supported ones. */
  public static String checkEngine(String engine) {
    Objects.requireNonNull(engine, "engine");
    if (!BUILDERS.containsKey(engine)) {
      throw new IllegalArgumentException("Unknown engine '" + engine + "'; supported: "
          + String.join(", ", ENGINES));
    }
    return engine;
  }

  private static String check(String id) {
    Objects.requireNonNull(id, "base id");
    int pixels = PixelsBase.sizeOf(id);
    if (pixels >= 0) {
      if (pixels < PixelsBase.MIN_SIZE || pixels > PixelsBase.MAX_SIZE) {
        throw new IllegalArgumentException("Base '" + id + "': the pixel size must be in ["
            + PixelsBase.MIN_SIZE + ", " + PixelsBase.MAX_SIZE + "]");
      }
      return id;
    }
    if (!RESOURCES.containsKey(baseOf(id))) {
      throw new IllegalArgumentException("Unknown base '" + id + "'; supported: "
          + String.join(", ", NAMES));
    }
    int tail = tailBlocks(id);
    if (tail > 0) {
      if (baseOf(id).equals(SqueezeNetBase.ID)) {
        SqueezeNetBase.checkTail(tail);
      } else {
        MobileNetV1Base.checkTail(tail);
      }
    }
    return id;
  }
}
