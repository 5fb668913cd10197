package io.bottleneck.nets;

import io.bottleneck.nets.dl4j.TunableTail;
import java.util.Map;

/**
 * A built-in network architecture: everything the rest of the project needs to know about it,
 * in one class, registered once in {@link Bases} (the list next to the engines). The facts
 * (id, default input side, feature length, bundled weights file and their parameter count,
 * preprocessing, which last blocks can be fine-tuned and the shape entering them) live here;
 * the networks themselves are engine code ({@code nets/dl4j}, {@code nets/tf}, {@code
 * nets/onnx}) that reads these facts, and {@link #engines()} says which engines run it and how
 * each builds it. Adding an architecture is one implementation of this interface, its network
 * on at least one engine, and one entry in {@link Bases}' list.
 *
 * <p>Ids are {@code id()[@<size>][@tail<k>]} (see {@link Bases}).
 */
public interface Architecture {

  /** The base id at the default input size, e.g. {@code mobilenet_v2_1.0}. */
  String id();

  /** Default input side; {@code id@<size>} selects another. */
  int defaultInputSize();

  /** Length of the pooled features of the whole network. */
  int features();

  /** File name of the bundled Keras weights, under {@link #WEIGHTS_DIR} on the classpath. */
  String weightsFile();

  /** Parameter count of the weights file: every engine checks it took exactly that many. */
  long weightParams();

  /** What an image becomes before the network, at an input side. */
  Preprocessing preprocessing(int inputSize);

  /**
   * The engines that run it, by engine name ({@link Engine#name()}), each with how it builds a
   * base from the weights file's bytes. An engine not named here does not run it.
   */
  Map<String, Engine.Builder> engines();

  /** Most last blocks a fine-tuned model may train; 0 when the architecture cannot be fine-tuned. */
  int maxTailBlocks();

  /** Why {@code @tail<k>} with {@code k = tailBlocks} is refused: what k may be, and why not more. */
  String tailRefusal(int tailBlocks);

  /** Channels, height and width of the activation entering the last {@code tailBlocks} blocks. */
  int[] tailInputShape(int inputSize, int tailBlocks);

  /**
   * The last {@code tailBlocks} blocks as trainable DL4J layers, whose input has shape
   * {@code inputShape} (see {@link TunableTail}).
   */
  TunableTail.Blocks tunableTail(int tailBlocks, int[] inputShape);

  /** Where the bundled weights files are on the classpath. */
  String WEIGHTS_DIR = "/io/bottleneck/features/weights/";

  /** Fails, saying what is allowed, unless the last {@code tailBlocks} blocks may be left out. */
  default void checkTail(int tailBlocks) {
    if (tailBlocks < 1 || tailBlocks > maxTailBlocks()) {
      throw new IllegalArgumentException(tailRefusal(tailBlocks));
    }
  }

  /** Feature length at an input side without the last {@code tailBlocks} blocks (0: whole). */
  default int featureSize(int inputSize, int tailBlocks) {
    if (tailBlocks == 0) {
      return features();
    }
    checkTail(tailBlocks);
    int[] shape = tailInputShape(inputSize, tailBlocks);
    return shape[0] * shape[1] * shape[2];
  }

  /** The base id at an input side, with {@code @<size>} unless it is the default. */
  default String idWithSize(int inputSize) {
    return inputSize == defaultInputSize() ? id() : id() + "@" + inputSize;
  }

  /**
   * The id without the last {@code tailBlocks} blocks ({@code id[@<size>]@tail<k>}), whose
   * features are the activation entering those blocks, flattened NCHW: what a fine-tuned
   * model's trainable tail takes. The base id for 0.
   */
  default String idWithTail(int inputSize, int tailBlocks) {
    String id = idWithSize(inputSize);
    return tailBlocks == 0 ? id : id + Bases.TAIL + tailBlocks;
  }
}
