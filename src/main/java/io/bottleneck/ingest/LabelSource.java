package io.bottleneck.ingest;

import java.io.Serializable;

/**
 * Where an image's label comes from. CLI syntax ({@link #parse}): {@code dir}, {@code filename},
 * {@code manifest:URI}, {@code none}.
 */
public sealed interface LabelSource extends Serializable
    permits LabelSource.Directory,
        LabelSource.FilenamePrefix,
        LabelSource.Manifest,
        LabelSource.None {

  /**
   * Label = the first folder level under the input root, as Keras'
   * {@code image_dataset_from_directory} and {@code flow_from_directory}: {@code root/cat/1.jpg}
   * and {@code root/cat/2019/1.jpg} are both "cat". Files directly under the input root have no
   * class folder and are rejected with "no class folder" rather than given a made-up label.
   */
  record Directory() implements LabelSource {}

  /**
   * Label = file name up to the first '.', as in Kaggle's {@code cat.12.jpg}. The name without
   * its extension must contain a '.', so {@code cat.jpg} is rejected with "no label prefix in file
   * name" instead of being labelled by its whole name.
   */
  record FilenamePrefix() implements LabelSource {}

  /**
   * Labels from a CSV file with a header row containing {@code path} and {@code label} (other
   * columns are ignored). Paths are absolute URIs, absolute paths on the input's file system, or
   * relative to the input root. Listed files not in the manifest are rejected "not in manifest";
   * manifest rows whose file was not listed are rejected "listed in manifest but missing".
   */
  record Manifest(String csvUri) implements LabelSource {
    public Manifest {
      if (csvUri == null || csvUri.isBlank()) {
        throw new IllegalArgumentException("Manifest URI must not be empty");
      }
    }
  }

  /** Unlabeled images (for prediction): label is null. */
  record None() implements LabelSource {}

  /** Parses {@code dir}, {@code filename}, {@code manifest:URI} or {@code none}. */
  static LabelSource parse(String spec) {
    if (spec != null) {
      switch (spec) {
        case "dir":
          return new Directory();
        case "filename":
          return new FilenamePrefix();
        case "none":
          return new None();
        default:
          String uri = spec.startsWith("manifest:") ? spec.substring("manifest:".length()) : "";
          if (!uri.isBlank()) {
            return new Manifest(uri);
          }
      }
    }
    throw new IllegalArgumentException(
        "Cannot use '" + spec + "' as a label source; expected one of: dir, filename, "
            + "manifest:URI (a CSV with columns path,label), none");
  }
}
