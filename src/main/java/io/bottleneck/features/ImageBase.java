package io.bottleneck.features;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * A frozen pretrained network turning images into feature vectors ("bottleneck features").
 *
 * <p>Instances are NOT thread-safe: they hold one DL4J graph whose forward pass keeps per-call
 * state. Callers use one instance per thread (on Spark: one per task/partition, built from
 * broadcast weight bytes with {@link Bases#fromWeights}).
 */
public interface ImageBase {

  /** Stable identifier, one of {@link Bases#names()}, e.g. {@code "mobilenet_v1_0.25"}. */
  String id();

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
   * Batch forward pass: one row of {@link #featureSize()} floats per image, in input order.
   * Images may be of any size (TYPE_INT_RGB expected, other types are converted); each is
   * resized to {@link #inputSize()} without cropping.
   */
  float[][] featurize(List<BufferedImage> images);
}
