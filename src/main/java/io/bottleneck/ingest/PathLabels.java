package io.bottleneck.ingest;

import org.apache.hadoop.fs.Path;

/** Labels that follow from a file's path alone (every source but the manifest). */
final class PathLabels {
  private PathLabels() {}

  static final String NO_CLASS_FOLDER = "no class folder";
  static final String NO_LABEL_PREFIX = "no label prefix in file name";

  /** A label, or the reason there is none. Exactly one of the two is non-null, or both null. */
  record Labeled(String label, String reason) {
    static Labeled of(String label) {
      return new Labeled(label, null);
    }

    static Labeled rejected(String reason) {
      return new Labeled(null, reason);
    }
  }

  private static final Labeled UNLABELED = new Labeled(null, null);

  /**
   * @param file the file as the listing reports it
   * @param root the qualified input directory
   */
  static Labeled labelOf(LabelSource source, Path file, Path root) {
    if (source instanceof LabelSource.Directory) {
      // The first folder level under the root, as Keras' image_dataset_from_directory: the
      // class folder may hold subfolders (photos/cat/2019/x.jpg is a cat).
      if (file.depth() - root.depth() < 2) {
        return Labeled.rejected(NO_CLASS_FOLDER);
      }
      Path classFolder = file.getParent();
      while (classFolder.depth() > root.depth() + 1) {
        classFolder = classFolder.getParent();
      }
      return Labeled.of(classFolder.getName());
    }
    if (source instanceof LabelSource.FilenamePrefix) {
      String name = file.getName();
      int ext = name.lastIndexOf('.');
      String base = ext > 0 ? name.substring(0, ext) : name;
      int dot = base.indexOf('.');
      return dot > 0 ? Labeled.of(base.substring(0, dot)) : Labeled.rejected(NO_LABEL_PREFIX);
    }
    // None: unlabeled; Manifest: labelled later by a join.
    return UNLABELED;
  }
}
