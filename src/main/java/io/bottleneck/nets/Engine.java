package io.bottleneck.nets;

/**
 * An inference engine: a name (the {@code featurize.engine} value). {@link Bases} keeps the
 * list of engines; adding an engine is one class implementing this plus one entry in that list.
 * A built-in architecture runs on an engine when its {@link Architecture#engines()} hold a
 * {@link Builder} under the engine's name.
 */
public interface Engine {

  /** The engine's name, e.g. {@code tensorflow}. */
  String name();

  /**
   * Builds a base from its weights file at an input size, without its last {@code tailBlocks}
   * blocks (0: whole).
   */
  @FunctionalInterface
  interface Builder {
    ImageBase build(byte[] weightsFile, String id, int inputSize, int tailBlocks);
  }

  /** A builder from parsed Keras weights. */
  @FunctionalInterface
  interface KerasBuilder {
    ImageBase build(KerasWeights weights, int inputSize, int tailBlocks);
  }

  /** The {@link Builder} that parses the {@code .h5} file and hands its weights to {@code b}. */
  static Builder keras(KerasBuilder b) {
    return (h5, id, size, tail) -> b.build(KerasWeights.read(h5), size, tail);
  }
}
