package io.bottleneck.io;

/** Column names shared by the stages: one place, so stages cannot drift apart. */
public final class Columns {
  private Columns() {}

  /** Fully qualified Hadoop URI of the image file (string). */
  public static final String PATH = "path";
  /** Class name (string); null for unlabeled images. */
  public static final String LABEL = "label";
  /** Hex SHA-256 of the file bytes (string): the identity of an image's content. */
  public static final String CONTENT_HASH = "content_hash";
  /**
   * The image file's bytes (binary), when a Dataset carries them instead of a readable path (as
   * Spark's {@code binaryFile} source does); the featurizer then reads no file.
   */
  public static final String CONTENT = "content";
  /** File size in bytes (long). */
  public static final String SIZE = "size";
  /** Decoded width and height in pixels (int). */
  public static final String WIDTH = "width";
  public static final String HEIGHT = "height";
  /** Why an input file was rejected (string). */
  public static final String REASON = "reason";
  /** train / validation / test (string). */
  public static final String SPLIT = "split";
  /** Bottleneck feature vector (array&lt;float&gt;). */
  public static final String FEATURES = "features";
  /** Features of the mirrored image, for test-time augmentation (array&lt;float&gt;). */
  public static final String FEATURES_FLIP = "features_flip";
  /** Which view of the image a training row's features are of: original or an augmented copy. */
  public static final String VIEW = "view";
  /** Index of the label in the model's class order (int). */
  public static final String LABEL_INDEX = "label_index";
  /** Predicted class name (string). */
  public static final String PREDICTION = "prediction";
  /** Class probabilities in the model's class order (array&lt;double&gt;). */
  public static final String PROBABILITIES = "probabilities";
}
