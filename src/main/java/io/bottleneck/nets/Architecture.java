package io.bottleneck.nets;

import io.bottleneck.nets.dl4j.TunableTail;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A built-in network architecture: everything the rest of the project needs to know about it,
 * in one subclass, registered once in {@link Bases} (the list next to the engines). The facts
 * (id, default input side, feature length, bundled weights file and their parameter count,
 * preprocessing, which last blocks can be fine-tuned and the shape entering them) live here;
 * the networks themselves are engine code ({@code nets/dl4j}, {@code nets/tf}, {@code
 * nets/onnx}) that reads these facts, and {@link #engines()} says which engines run it and how
 * each builds it. Adding an architecture is one subclass, its network
 * on at least one engine, and one entry in {@link Bases}' list.
 *
 * <p>Ids are {@code id()[@<size>][@tail<k>]} (see {@link Bases}).
 */
public abstract class Architecture {

  /** Where the bundled weights files are on the classpath. */
  public static final String WEIGHTS_DIR = "/io/bottleneck/features/weights/";

  private final String id;
  private final int defaultInputSize;
  private final int features;
  private final String weightsFile;
  private final long weightParams;
  private final int maxTailBlocks;
  private final IntFunction<Preprocessing> preprocessing;
  private final Map<String, Engine.Builder> engines;

  /**
   * @param id the base id at the default input size, e.g. {@code mobilenet_v2_1.0}
   * @param defaultInputSize default input side; {@code id@<size>} selects another
   * @param features length of the pooled features of the whole network
   * @param weightsFile file name of the bundled Keras weights, under {@link #WEIGHTS_DIR}
   * @param weightParams parameter count of the weights file: every engine checks it took
   *     exactly that many
   * @param maxTailBlocks most last blocks a fine-tuned model may train; 0 when it cannot be
   *     fine-tuned
   * @param preprocessing what an image becomes before the network, at an input side
   * @param engines the engines that run it, by engine name ({@link Engine#name()}), each with
   *     how it builds a base from the weights file's bytes; an engine not named here does not
   *     run it
   */
  protected Architecture(String id, int defaultInputSize, int features, String weightsFile, long weightParams,
      int maxTailBlocks, IntFunction<Preprocessing> preprocessing, Map<String, Engine.Builder> engines) {
    this.id = id;
    this.defaultInputSize = defaultInputSize;
    this.features = features;
    this.weightsFile = weightsFile;
    this.weightParams = weightParams;
    this.maxTailBlocks = maxTailBlocks;
    this.preprocessing = preprocessing;
    this.engines = Map.copyOf(engines);
  }

  public final String id() {
    return id;
  }

  public final int defaultInputSize() {
    return defaultInputSize;
  }

  public final int features() {
    return features;
  }

  public final String weightsFile() {
    return weightsFile;
  }

  public final long weightParams() {
    return weightParams;
  }

  public final int maxTailBlocks() {
    return maxTailBlocks;
  }

  public final Preprocessing preprocessing(int inputSize) {
    return preprocessing.apply(inputSize);
  }

  public final Map<String, Engine.Builder> engines() {
    return engines;
  }

  /** Why {@code @tail<k>} with {@code k = tailBlocks} is refused: what k may be, and why not more. */
  public abstract String tailRefusal(int tailBlocks);

  /** Channels, height and width of the activation entering the last {@code tailBlocks} blocks. */
  public abstract int[] tailInputShape(int inputSize, int tailBlocks);

  /**
   * The last {@code tailBlocks} blocks as trainable DL4J layers, whose input has shape
   * {@code inputShape} (see {@link TunableTail}).
   */
  public abstract TunableTail.Blocks tunableTail(int tailBlocks, int[] inputShape);

  /** Fails, saying what is allowed, unless the last {@code tailBlocks} blocks may be left out. */
  public final void checkTail(int tailBlocks) {
    if (tailBlocks < 1 || tailBlocks > maxTailBlocks) {
      throw new IllegalArgumentException(tailRefusal(tailBlocks));
    }
  }

  /** Feature length at an input side without the last {@code tailBlocks} blocks (0: whole). */
  public final int featureSize(int inputSize, int tailBlocks) {
    if (tailBlocks == 0) {
      return features;
    }
    checkTail(tailBlocks);
    int[] shape = tailInputShape(inputSize, tailBlocks);
    return shape[0] * shape[1] * shape[2];
  }

  /** The base id at an input side, with {@code @<size>} unless it is the default. */
  public final String idWithSize(int inputSize) {
    return inputSize == defaultInputSize ? id : id + "@" + inputSize;
  }

  /**
   * The id without the last {@code tailBlocks} blocks ({@code id[@<size>]@tail<k>}), whose
   * features are the activation entering those blocks, flattened NCHW: what a fine-tuned
   * model's trainable tail takes. The base id for 0.
   */
  public final String idWithTail(int inputSize, int tailBlocks) {
    String withSize = idWithSize(inputSize);
    return tailBlocks == 0 ? withSize : withSize + Bases.TAIL + tailBlocks;
  }
}
