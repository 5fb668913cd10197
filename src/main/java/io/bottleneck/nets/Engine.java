package io.bottleneck.nets;

import java.util.Map;

/**
 * An inference engine of the built-in bases: a name (the {@code --engine} / {@code
 * featurize.engine} value) and the built-in architectures it runs, each with how it builds a
 * base from the bytes of the architecture's weights file. {@link Bases} keeps the list of
 * engines; adding an engine is one class implementing this plus one entry in that list, and an
 * architecture runs on an engine when the engine's {@link #architectures()} name it.
 */
public interface Engine {

  /** The engine's name, e.g. {@code tensorflow}. */
  String name();

  /**
   * The built-in architectures this engine runs, by architecture name (a base id without input
   * size and tail, e.g. {@code squeezenet_1.1}), each with its builder.
   */
  Map<String, Builder> architectures();

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
