package io.bottleneck.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.ingest.PathLabels.Labeled;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;

class LabelSourceTest {
  private static final Path ROOT = new Path("hdfs://nn:8020/data/train");

  private static Labeled label(LabelSource source, String file) {
    return PathLabels.labelOf(source, new Path(file), ROOT);
  }

  @Test
  void parsesTheCliForms() {
    assertThat(LabelSource.parse("dir")).isEqualTo(new LabelSource.Directory());
    assertThat(LabelSource.parse("filename")).isEqualTo(new LabelSource.FilenamePrefix());
    assertThat(LabelSource.parse("none")).isEqualTo(new LabelSource.None());
    assertThat(LabelSource.parse("manifest:s3a://bucket/labels.csv"))
        .isEqualTo(new LabelSource.Manifest("s3a://bucket/labels.csv"));
  }

  @Test
  void rejectsAnythingElseNamingTheValueAndTheForms() {
    for (String bad : new String[] {"folder", "DIR", "manifest:", "manifest: ", "", " dir"}) {
      assertThatThrownBy(() -> LabelSource.parse(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("Cannot use '" + bad + "' as a label source; expected one of: dir, "
              + "filename, manifest:URI (a CSV with columns path,label), none");
    }
    assertThatThrownBy(() -> LabelSource.parse(null)).hasMessageStartingWith("Cannot use 'null'");
  }

  @Test
  void directoryIsTheFirstFolderUnderTheRoot() {
    LabelSource dir = new LabelSource.Directory();
    assertThat(label(dir, "hdfs://nn:8020/data/train/cat/1.jpg")).isEqualTo(Labeled.of("cat"));
    // deeper folders belong to their class folder, as in Keras' image_dataset_from_directory
    assertThat(label(dir, "hdfs://nn:8020/data/train/cat/2019/2.jpg")).isEqualTo(Labeled.of("cat"));
    assertThat(label(dir, "hdfs://nn:8020/data/train/pets/dog/a/b/2.jpg")).isEqualTo(Labeled.of("pets"));
    assertThat(PathLabels.labelOf(dir, new Path("file:///x/big cat/2019/5.jpg"), new Path("file:/x")))
        .isEqualTo(Labeled.of("big cat"));
    assertThat(label(dir, "hdfs://nn:8020/data/train/3.jpg"))
        .isEqualTo(Labeled.rejected("no class folder"));
    // The listing may spell the scheme differently from the root; the folder is the same.
    assertThat(PathLabels.labelOf(dir, new Path("file:///x/4.jpg"), new Path("file:/x")))
        .isEqualTo(Labeled.rejected("no class folder"));
  }

  @Test
  void filenamePrefixIsTheNameUpToTheFirstDot() {
    LabelSource prefix = new LabelSource.FilenamePrefix();
    assertThat(label(prefix, "hdfs://nn:8020/data/train/cat.12.jpg")).isEqualTo(Labeled.of("cat"));
    assertThat(label(prefix, "hdfs://nn:8020/data/train/x/dog.1.2.png")).isEqualTo(Labeled.of("dog"));
    assertThat(label(prefix, "hdfs://nn:8020/data/train/cat.jpg"))
        .isEqualTo(Labeled.rejected("no label prefix in file name"));
    assertThat(label(prefix, "hdfs://nn:8020/data/train/README"))
        .isEqualTo(Labeled.rejected("no label prefix in file name"));
  }

  @Test
  void noneAndManifestGiveNoLabelFromThePath() {
    assertThat(label(new LabelSource.None(), "hdfs://nn:8020/data/train/cat/1.jpg"))
        .isEqualTo(new Labeled(null, null));
    assertThat(label(new LabelSource.Manifest("m.csv"), "hdfs://nn:8020/data/train/1.jpg"))
        .isEqualTo(new Labeled(null, null));
  }
}
