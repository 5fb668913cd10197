package io.bottleneck.nets;

import io.bottleneck.nets.architectures.MobileNetV1;
import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.dl4j.Dl4jEngine;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.nets.onnx.BuiltInOnnxGraphs;
import io.bottleneck.nets.onnx.OnnxEngine;
import io.bottleneck.nets.tf.TensorFlowEngine;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The frozen bases: the registries of engines and built-in architectures, base ids and specs,
 * and the bundled Keras weights.
 *
 * <p>A base id is {@code <architecture>[@<size>][@tail<k>]}, a {@code pixels<size>} pseudo-base,
 * or the name of a base declared in configuration ({@link DeclaredBases}). Each built-in
 * {@link Architecture} says which engines run it: {@link #ENGINE_TENSORFLOW} (TensorFlow Java
 * graph, NHWC, BatchNorm folded into the convolutions), {@link #ENGINE_ONNX} (ONNX Runtime on
 * the project's ONNX graph of the same weights) and {@link #ENGINE_DL4J} (DL4J
 * ComputationGraph, NCHW, the reference; not MobileNetV2).
 *
 * <p>On Spark, broadcast {@link #weights(String)} once and call {@link #fromWeights} on each
 * executor thread: instances are not thread-safe and weight bytes travel better than a graph.
 *
 * <p>Engines give the same features to within 1e-4 absolute (EnginesTest,
 * BuiltInOnnxGraphsTest), so a base reports the same {@link ImageBase#preprocessingId()} on every
 * engine and cached features are shared between them: the cache key means "same preprocessing +
 * same weights = same features". An engine whose features differ more must get its own
 * preprocessing id.
 */
public final class Bases {

  /** MobileNetV2 1.0: ImageNet top-1 71.8%; 99.25% validation on cats vs dogs (docs/model-quality.md). */
  public static final String DEFAULT = MobileNetV2.ID;

  /** TensorFlow Java 0.5.0 (TF 2.10, oneDNN), one intra-op thread per instance. */
  public static final String ENGINE_TENSORFLOW = TensorFlowEngine.NAME;
  /** DL4J / ND4J ComputationGraph: the reference implementation. */
  public static final String ENGINE_DL4J = Dl4jEngine.NAME;
  /**
   * ONNX Runtime: built-in bases through the ONNX graphs the project writes from the same Keras
   * weights ({@link BuiltInOnnxGraphs}), and declared ONNX bases ({@link DeclaredBases}).
   */
  public static final String ENGINE_ONNX = OnnxEngine.NAME;
  /** What {@link #load(String)} and {@link #fromWeights(String, byte[])} use. */
  public static final String DEFAULT_ENGINE = ENGINE_TENSORFLOW;

  /**
   * The engines, in {@link #engines()} order. A base runs on an engine when its {@link
   * Architecture#engines()} name the engine. Adding an engine: one {@link Engine} class, one
   * entry here.
   */
  private static final List<Engine> REGISTERED =
      List.of(new TensorFlowEngine(), new OnnxEngine(), new Dl4jEngine());

  private static final List<String> ENGINES = REGISTERED.stream().map(Engine::name).toList();

  /**
   * The built-in architectures, the default first ({@link #names()} order). Adding one: one
   * {@link Architecture} class, one entry here.
   */
  private static final List<Architecture> ARCHITECTURES =
      List.of(new MobileNetV2(), new MobileNetV1(), new SqueezeNet());

  private static final List<String> NAMES = ARCHITECTURES.stream().map(Architecture::id).toList();

  /** Smallest and largest input side a base may be given (SqueezeNet needs 96+ to keep its pools valid). */
  static final int MIN_INPUT_SIZE = 96;
  static final int MAX_INPUT_SIZE = 512;

  /** name, optional @size, optional @tail<k> */
  private static final java.util.regex.Pattern ID =
      java.util.regex.Pattern.compile("([^@]+)(?:@(\\d+))?(@tail.*)?");

  /**
   * Marks a base id without its last blocks, e.g. {@code mobilenet_v1_0.25@tail1}: the frozen
   * part of a fine-tuned model, whose features are the activations entering the blocks the
   * model trained (see {@link TunableTail}).
   */
  public static final String TAIL = "@tail";

  private Bases() {}

  /** The base an id refers to: the id without a {@link #TAIL} suffix (an input size stays). */
  public static String baseOf(String id) {
    int at = id.indexOf(TAIL);
    return at < 0 ? id : id.substring(0, at);
  }

  /** The architecture an id refers to: the id without input size and tail, e.g. {@code squeezenet_1.1}. */
  public static String nameOf(String id) {
    int at = id.indexOf('@');
    return at < 0 ? id : id.substring(0, at);
  }

  /**
   * The input side of a base id: the {@code @<size>} after the name (e.g. {@code
   * squeezenet_1.1@320}: images resized to 320x320 instead of 227x227, finer detail for 2x the
   * compute), else the base's default.
   */
  public static int inputSize(String id) {
    java.util.regex.Matcher m = ID.matcher(id);
    if (m.matches() && m.group(2) != null) {
      return Integer.parseInt(m.group(2));
    }
    Architecture a = find(nameOf(id));
    if (a == null) {
      throw new IllegalArgumentException("Base '" + id + "' has no input size");
    }
    return a.defaultInputSize();
  }

  /** {@code name}, with {@code @<size>} unless it is the default size. */
  public static String idWithSize(String name, int inputSize) {
    return architecture(name).idWithSize(inputSize);
  }

  /** The number of last blocks an id leaves out: 0 without a {@link #TAIL} suffix. */
  public static int tailBlocks(String id) {
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
    return parseSpec(spec, DeclaredBases.names());
  }

  /**
   * {@link #parseSpec(String)} where {@code declared} are the names of the bases declared in
   * configuration ({@code bottleneck.bases}), which a spec may name like built-in ones.
   */
  public static List<String> parseSpec(String spec, Set<String> declared) {
    Objects.requireNonNull(spec, "base spec");
    List<String> ids = List.of(spec.split("\\+", -1));
    for (String id : ids) {
      if (declared.contains(id)) {
        continue;
      }
      if (find(nameOf(id)) == null && PixelsBase.sizeOf(id) < 0) {
        throw new IllegalArgumentException("Unknown base '" + id + "' in '" + spec + "'; supported: "
            + String.join(", ", NAMES) + (declared.isEmpty() ? "" : ", the declared " + String.join(", ", declared))
            + ", or several joined by '+'");
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

  /** Whether {@code id} names a base declared in configuration (registered in this JVM). */
  public static boolean isDeclared(String id) {
    return DeclaredBases.isDeclared(id);
  }

  /**
   * The engine that runs {@code id} when {@code engine} is asked for: a declared base runs on
   * its format's engine, a built-in one on the engine asked for.
   */
  public static String engineOf(String id, String engine) {
    BaseDeclaration declared = DeclaredBases.get(id);
    return declared == null ? checkEngine(engine) : DeclaredBases.engine(declared);
  }

  /**
   * The key of a built network in a JVM's pool ({@link ImageBase#poolKey()} with its engine):
   * a declared base's includes its model's hash, so a changed file is never served from the pool.
   */
  public static String poolKey(String id, String engine) {
    BaseDeclaration declared = DeclaredBases.get(id);
    return (declared == null ? id : DeclaredBases.poolKey(declared)) + "@" + engine;
  }

  /** Supported engines: {@code tensorflow, onnx, dl4j}. */
  public static List<String> engines() {
    return ENGINES;
  }

  /** The bundled {@code .h5} weight file of a base, as bytes (a fresh copy per call). */
  public static byte[] weights(String id) {
    if (DeclaredBases.isDeclared(id)) {
      return DeclaredBases.model(id); // the user's model file
    }
    if (PixelsBase.sizeOf(check(id)) > 0) {
      return new byte[0]; // raw pixels: no weights
    }
    String resource = Architecture.WEIGHTS_DIR + architecture(id).weightsFile();
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
    BaseDeclaration declared = DeclaredBases.get(id);
    if (declared != null) {
      return DeclaredBases.build(declared, h5Bytes);
    }
    check(id);
    checkEngine(engine);
    int pixels = PixelsBase.sizeOf(id);
    if (pixels > 0) {
      return new PixelsBase(pixels, engine);
    }
    return builder(engine, id).build(h5Bytes, id, inputSize(id), tailBlocks(id));
  }

  /** The engines that run base {@code id}, in {@link #engines()} order. */
  public static List<String> engines(String id) {
    BaseDeclaration declared = DeclaredBases.get(id);
    if (declared != null) {
      return List.of(DeclaredBases.engine(declared));
    }
    if (PixelsBase.sizeOf(check(id)) > 0) {
      return ENGINES;
    }
    Set<String> running = architecture(id).engines().keySet();
    return ENGINES.stream().filter(running::contains).toList();
  }

  /** The builder of a known base on a known engine; fails naming the engines that run the base. */
  private static Engine.Builder builder(String engine, String id) {
    Engine.Builder builder = architecture(id).engines().get(engine);
    if (builder == null) {
      throw new IllegalArgumentException("Base '" + id + "' does not run on engine " + engine
          + "; it runs on: " + String.join(", ", engines(id)));
    }
    return builder;
  }

  /** Builds a base on the {@link #DEFAULT_ENGINE} from its bundled weights. */
  public static ImageBase load(String id) {
    return load(id, DEFAULT_ENGINE);
  }

  /** Builds a base on the given engine from its bundled weights. */
  public static ImageBase load(String id, String engine) {
    if (DeclaredBases.isDeclared(id)) {
      return fromWeights(id, weights(id), engine);
    }
    check(id);
    checkEngine(engine);
    return fromWeights(id, weights(id), engine);
  }

  /** The built-in architectures, in {@link #names()} order. */
  public static List<Architecture> architectures() {
    return ARCHITECTURES;
  }

  /**
   * The built-in architecture of a base id ({@code name[@size][@tail<k>]}); fails naming the
   * supported ones for any other id.
   */
  public static Architecture architecture(String id) {
    Architecture a = find(nameOf(Objects.requireNonNull(id, "base id")));
    if (a == null) {
      throw new IllegalArgumentException("Unknown base '" + id + "'; supported: " + String.join(", ", NAMES));
    }
    return a;
  }

  private static Architecture find(String name) {
    return ARCHITECTURES.stream().filter(a -> a.id().equals(name)).findFirst().orElse(null);
  }

  /** Returns {@code engine} if supported, else fails naming the supported ones. */
  public static String checkEngine(String engine) {
    Objects.requireNonNull(engine, "engine");
    if (!ENGINES.contains(engine)) {
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
    String name = nameOf(id);
    java.util.regex.Matcher m = ID.matcher(id);
    Architecture a = find(name);
    if (a == null || !m.matches()) {
      throw new IllegalArgumentException("Unknown base '" + id + "'; supported: "
          + String.join(", ", NAMES) + ", each optionally with an input size, e.g. " + SqueezeNet.ID + "@320");
    }
    if (m.group(2) != null) {
      int size = Integer.parseInt(m.group(2));
      if (size < MIN_INPUT_SIZE || size > MAX_INPUT_SIZE) {
        throw new IllegalArgumentException("Base '" + id + "': the input size must be in [" + MIN_INPUT_SIZE + ", "
            + MAX_INPUT_SIZE + "], not " + size);
      }
      if (size == a.defaultInputSize()) {
        throw new IllegalArgumentException("Base '" + id + "': " + size + " is " + name + "'s default input size; write "
            + name + " (one id per set of features, so the cache is shared)");
      }
    }
    int tail = tailBlocks(id);
    if (tail > 0) {
      a.checkTail(tail);
    }
    return id;
  }
}
