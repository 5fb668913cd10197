package io.bottleneck.nets;

import io.bottleneck.io.UndecodableImageException;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Objects;

/**
 * A frozen pretrained network turning images into feature vectors ("bottleneck features").
 *
 * <p>Instances are NOT thread-safe: a DL4J graph's forward pass keeps per-call state. Callers
 * use one instance per thread (on Spark: one per task/partition, built from broadcast weight
 * bytes with {@link Bases#fromWeights}).
 *
 * <p>An instance may hold native resources (the TensorFlow engine holds a TF graph and
 * session): {@link #close()} it when done. Unclosed instances are released when garbage
 * collected; executors keep theirs pooled for the life of the JVM.
 */
public interface ImageBase extends AutoCloseable {

  /** Stable identifier, one of {@link Bases#names()}, e.g. {@code "mobilenet_v1_0.25"}. */
  String id();

  /**
   * What tells this network apart from another of the same {@link #id()} and engine in a JVM's
   * pool of built networks: the id for built-in bases, whose weights are fixed; the id and the
   * model file's hash for declared ones, whose file may change between jobs.
   */
  default String poolKey() {
    return id();
  }

  /** Side in pixels of the square network input that every image is resized to. */
  int inputSize();

  /** Length of each feature vector. */
  int featureSize();

  /**
   * Stable description of resize, colour order and scaling. Part of feature cache keys: it
   * changes whenever the preprocessing changes, so stale cached features are not reused.
   */
  String preprocessingId();

  /**
   * The inference engine, one of {@link Bases#engines()}. Defaults to DL4J, which every base
   * used before engines existed; other engines override it.
   */
  default String engine() {
    return Bases.ENGINE_DL4J;
  }

  /**
   * Batch forward pass: one row of {@link #featureSize()} floats per image, in input order.
   * Images may be of any size (TYPE_INT_RGB expected, other types are converted); each is
   * resized to {@link #inputSize()} without cropping.
   */
  float[][] featurize(List<BufferedImage> images);

  /**
   * Decodes one image file (its bytes as stored) and writes its network input, resized and
   * preprocessed exactly as {@link #featurize} does, as image {@code index} of {@code batch}
   * ({@code 3 * inputSize()^2} floats per image, in this engine's layout). An engine may decode
   * with its own decoder, but only where the pixels are the same as {@link
   * io.bottleneck.io.Images#decode}'s (the cache key does not name the decoder).
   *
   * @param name the file's path, for error messages
   * @throws UndecodableImageException naming {@code name} when the bytes do not decode
   */
  void readInput(byte[] file, String name, float[] batch, int index)
      throws UndecodableImageException;

  /** Forward pass over {@code n} inputs written by {@link #readInput}: one feature row each. */
  float[][] forward(float[] batch, int n);

  /**
   * {@link #readInput} for every file, then one {@link #forward} pass: what the featurize stage
   * runs per mini-batch. {@code names} are the files' paths, for error messages.
   */
  default float[][] featurizeFiles(List<byte[]> files, List<String> names)
      throws UndecodableImageException {
    Objects.requireNonNull(files, "files");
    if (names.size() != files.size()) {
      throw new IllegalArgumentException(files.size() + " files but " + names.size() + " names");
    }
    if (files.isEmpty()) {
      return new float[0][];
    }
    int perImage = 3 * inputSize() * inputSize();
    float[] batch = new float[Math.multiplyExact(files.size(), perImage)];
    for (int i = 0; i < files.size(); i++) {
      readInput(files.get(i), names.get(i), batch, i);
    }
    return forward(batch, files.size());
  }

  /**
   * Whether {@link #readInput} lays an image out channels-last (NHWC, TensorFlow) rather than
   * channels-first (NCHW, DL4J), for transforms that work on network inputs.
   */
  default boolean channelsLast() {
    return false;
  }

  /**
   * Releases native resources, if the engine holds any (then later calls to {@link #featurize}
   * fail). Idempotent.
   */
  @Override
  default void close() {
    // DL4J graphs live on the JVM heap (their off-heap buffers are GC-managed): nothing to do
  }
}
