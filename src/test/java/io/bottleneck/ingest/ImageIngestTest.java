package io.bottleneck.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.testing.LocalSpark;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class ImageIngestTest {
  private static final String TRUNCATED = "truncated or corrupt JPEG: no end-of-image marker (file truncated)";

  @TempDir Path tmp;

  // ---- fixtures --------------------------------------------------------------------------------

  static byte[] resource(String name) {
    try (InputStream in = ImageIngestTest.class.getResourceAsStream("/ingest/" + name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test resource /ingest/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] png(int w, int h, int argb) {
    BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_INT_ARGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, argb);
      }
    }
    return encode(image, "png");
  }

  static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(ImageIO.write(image, format, out)).isTrue();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Path write(Path file, byte[] bytes) throws IOException {
    Files.createDirectories(file.getParent());
    return Files.write(file, bytes);
  }

  /** The URI Spark reports for a local file. */
  static String uri(Path file) {
    return "file:" + file.toAbsolutePath();
  }

  static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  static Map<String, Row> byPath(Dataset<Row> rows) {
    Map<String, Row> map = new HashMap<>();
    for (Row r : rows.collectAsList()) {
      assertThat(map.put(r.getString(0), r)).as("duplicate row for %s", r.getString(0)).isNull();
    }
    return map;
  }

  static Map<String, String> reasons(Dataset<Row> rejects) {
    Map<String, String> map = new HashMap<>();
    byPath(rejects).forEach((path, row) -> map.put(path, row.getString(1)));
    return map;
  }

  static void assertReconciles(IngestResult r) {
    assertThat(r.images().count()).isEqualTo(r.accepted());
    assertThat(r.rejects().count()).isEqualTo(r.rejected());
    assertThat(r.listed() + r.missing()).isEqualTo(r.accepted() + r.rejected());
  }

  @Test
  void widthAndHeightAreTheUprightImagesUnlessExifOrientationIsOff(SparkSession spark) throws Exception {
    Path root = tmp.resolve("phone");
    byte[] stored = io.bottleneck.io.JpegVariants.write(new BufferedImage(48, 24, BufferedImage.TYPE_INT_RGB), false);
    Path portrait = write(root.resolve("cat/portrait.jpg"), io.bottleneck.io.JpegVariants.withExifOrientation(stored, 6, true));
    Map<String, Row> upright = byPath(ImageIngest.ingest(spark, root.toString(), new LabelSource.Directory()).images());
    assertThat(upright.get(uri(portrait)).getInt(4)).isEqualTo(24);
    assertThat(upright.get(uri(portrait)).getInt(5)).isEqualTo(48);
    Map<String, Row> asStored = byPath(ImageIngest.ingest(spark, root.toString(), new LabelSource.Directory(), false).images());
    assertThat(asStored.get(uri(portrait)).getInt(4)).isEqualTo(48);
    assertThat(asStored.get(uri(portrait)).getInt(5)).isEqualTo(24);
  }

  // ---- labels from folders, and every kind of reject -------------------------------------------

  @Test
  void directoryLabelsImagesAndRejectsBadFilesAndSkipsHiddenOnes(SparkSession spark) throws Exception {
    Path root = tmp.resolve("in");
    byte[] cat5 = resource("cat.5.jpg");
    byte[] cat28 = resource("cat.28.jpg");
    byte[] dog11 = resource("dog.11.jpg");
    byte[] alpha = png(3, 2, 0x80FF0000);
    Path cat5File = write(root.resolve("cat/cat.5.jpg"), cat5);
    Path cat28File = write(root.resolve("cat/cat.28.jpg"), cat28);
    Path nested = write(root.resolve("dog/2019/summer/dog.12.jpg"), resource("dog.12.jpg"));
    Path dog11File = write(root.resolve("dog/dog.11.jpg"), dog11);
    Path copy = write(root.resolve("dog/copy of dog.11.jpg"), dog11);
    Path alphaFile = write(root.resolve("cat/alpha.png"), alpha);
    Path gif = write(root.resolve("dog/small.gif"),
        encode(new BufferedImage(5, 4, BufferedImage.TYPE_BYTE_INDEXED), "gif"));
    Path stray = write(root.resolve("stray.jpg"), cat5);
    Path empty = write(root.resolve("cat/empty.jpg"), new byte[0]);
    Path text = write(root.resolve("cat/notes.jpg"), "not a picture".getBytes(StandardCharsets.UTF_8));
    Path half = write(root.resolve("dog/half.jpg"), Arrays.copyOf(cat28, cat28.length / 2));
    Path tiff = write(root.resolve("dog/scan.tiff"), encode(new BufferedImage(4, 3, BufferedImage.TYPE_INT_RGB), "tiff"));
    Path webp = write(root.resolve("cat/web.webp"), io.bottleneck.io.LosslessWebp.encode(new int[][] {{0x102030, 0x405060}}));
    Path heic = write(root.resolve("dog/phone.heic"), "\0\0\0\u0018ftypheic\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1));
    // hidden: skipped, counted, neither accepted nor rejected
    write(root.resolve(".DS_Store"), new byte[] {1, 2, 3});
    write(root.resolve("cat/_SUCCESS"), new byte[0]);
    write(root.resolve("cat/.thumbs/cat.5.jpg"), cat5);
    write(root.resolve("_tmp/cat.5.jpg"), cat5);
    // class folders without an accepted image: reported, not failed
    Files.createDirectories(root.resolve("bird"));
    Path fishNotes = write(root.resolve("fish/notes.txt"), "no picture".getBytes(StandardCharsets.UTF_8));

    IngestResult result = ImageIngest.ingest(spark, root.toString(), new LabelSource.Directory());

    assertThat(result.listed()).isEqualTo(15);
    assertThat(result.accepted()).isEqualTo(9);
    assertThat(result.rejected()).isEqualTo(6);
    assertThat(result.skipped()).isEqualTo(4);
    assertThat(result.emptyClassFolders()).containsExactly("bird", "fish");
    assertThat(result.counts()).containsExactly(
        Map.entry("listed", 15L), Map.entry("accepted", 9L), Map.entry("rejected", 6L), Map.entry("skipped", 4L),
        Map.entry("empty_class_folders", List.of("bird", "fish")));
    assertThat(result.missing()).isZero();
    assertReconciles(result);

    assertThat(result.images().schema().simpleString())
        .isEqualTo("struct<path:string,label:string,content_hash:string,size:bigint,width:int,height:int>");
    assertThat(result.rejects().schema().simpleString())
        .isEqualTo("struct<path:string,reason:string,size:bigint>");

    Map<String, Row> images = byPath(result.images());
    assertThat(images).containsOnlyKeys(
        uri(cat5File), uri(cat28File), uri(nested), uri(dog11File), uri(copy), uri(alphaFile), uri(gif),
        uri(tiff), uri(webp));
    Row cat = images.get(uri(cat5File));
    assertThat(cat.getString(1)).isEqualTo("cat");
    assertThat(cat.getString(2)).isEqualTo(sha256(cat5));
    assertThat(cat.getLong(3)).isEqualTo(cat5.length);
    assertThat(cat.getInt(4)).isEqualTo(175);
    assertThat(cat.getInt(5)).isEqualTo(144);
    assertThat(images.get(uri(nested)).getString(1)).isEqualTo("dog");
    assertThat(images.get(uri(nested)).getInt(4)).isEqualTo(98);
    assertThat(images.get(uri(copy)).getString(2)).isEqualTo(images.get(uri(dog11File)).getString(2));
    assertThat(images.get(uri(alphaFile)).getString(1)).isEqualTo("cat");
    assertThat(images.get(uri(alphaFile)).getInt(4)).isEqualTo(3);
    assertThat(images.get(uri(alphaFile)).getString(2)).isEqualTo(sha256(alpha));
    assertThat(images.get(uri(gif)).getInt(5)).isEqualTo(4);
    assertThat(images.get(uri(tiff)).getString(1)).isEqualTo("dog");
    assertThat(images.get(uri(tiff)).getInt(4)).isEqualTo(4);
    assertThat(images.get(uri(tiff)).getInt(5)).isEqualTo(3);
    assertThat(images.get(uri(webp)).getString(1)).isEqualTo("cat");
    assertThat(images.get(uri(webp)).getInt(4)).isEqualTo(2);

    assertThat(reasons(result.rejects())).containsExactlyInAnyOrderEntriesOf(Map.of(
        uri(stray), "no class folder",
        uri(empty), "empty file",
        uri(text), "not an image: unrecognized format",
        uri(half), TRUNCATED,
        uri(heic), "unsupported format: heif",
        uri(fishNotes), "not an image: unrecognized format"));
    assertThat(byPath(result.rejects()).get(uri(half)).getLong(2)).isEqualTo(cat28.length / 2);
  }

  @Test
  void filenamePrefixAndNone(SparkSession spark) throws Exception {
    Path root = tmp.resolve("kaggle");
    Path cat = write(root.resolve("a/cat.5.jpg"), resource("cat.5.jpg"));
    Path dog = write(root.resolve("dog.12.jpg"), resource("dog.12.jpg"));
    Path noPrefix = write(root.resolve("b/kitty.jpg"), resource("cat.28.jpg"));

    IngestResult prefix = ImageIngest.ingest(spark, root.toString(), new LabelSource.FilenamePrefix());
    assertThat(prefix.listed()).isEqualTo(3);
    assertThat(prefix.accepted()).isEqualTo(2);
    assertThat(prefix.rejected()).isEqualTo(1);
    Map<String, Row> images = byPath(prefix.images());
    assertThat(images.get(uri(cat)).getString(1)).isEqualTo("cat");
    assertThat(images.get(uri(dog)).getString(1)).isEqualTo("dog");
    assertThat(reasons(prefix.rejects()))
        .containsExactlyEntriesOf(Map.of(uri(noPrefix), "no label prefix in file name"));

    IngestResult none = ImageIngest.ingest(spark, "file://" + root, new LabelSource.None());
    assertThat(none.listed()).isEqualTo(3);
    assertThat(none.accepted()).isEqualTo(3);
    assertThat(none.rejected()).isZero();
    assertThat(byPath(none.images()).values()).allSatisfy(r -> assertThat(r.isNullAt(1)).isTrue());
  }

  // ---- manifest ----------------------------------------------------------------------------------

  @Test
  void manifestLabelsAccountForEveryFileAndEveryRow(SparkSession spark) throws Exception {
    Path root = tmp.resolve("photos");
    Path cat5 = write(root.resolve("cat/cat.5.jpg"), resource("cat.5.jpg"));
    Path cat28 = write(root.resolve("cat/cat.28.jpg"), resource("cat.28.jpg"));
    Path dog12 = write(root.resolve("dog/dog.12.jpg"), resource("dog.12.jpg"));
    Path dog11 = write(root.resolve("dog/dog.11.jpg"), resource("dog.11.jpg"));
    Path unlisted = write(root.resolve("extra/unlisted.jpg"), resource("cat.5.jpg"));
    Path bad = write(root.resolve("cat/bad.jpg"), "oops".getBytes(StandardCharsets.UTF_8));
    Path blank = write(root.resolve("dog/blank.jpg"), resource("dog.11.jpg"));
    Path manifest = write(tmp.resolve("labels.csv"), String.join("\n",
        "path,label,note",
        "cat/cat.5.jpg,kitten,relative",
        root.toAbsolutePath() + "/dog/dog.12.jpg,puppy,absolute path",
        "file://" + root.toAbsolutePath() + "/dog/dog.11.jpg,puppy,absolute URI",
        "cat/cat.28.jpg,b,first label",
        "cat/cat.28.jpg,a,second label",
        "cat/bad.jpg,kitten,",
        "dog/blank.jpg, ,label left empty",
        "./cat/ghost.jpg,kitten,no such file",
        "").getBytes(StandardCharsets.UTF_8));

    IngestResult result =
        ImageIngest.ingest(spark, root.toString(), new LabelSource.Manifest(manifest.toString()));

    assertThat(result.listed()).isEqualTo(7);
    assertThat(result.accepted()).isEqualTo(3);
    assertThat(result.rejected()).isEqualTo(5);
    assertThat(result.missing()).isEqualTo(1);
    assertReconciles(result);

    Map<String, Row> images = byPath(result.images());
    assertThat(images).containsOnlyKeys(uri(cat5), uri(dog12), uri(dog11));
    assertThat(images.get(uri(cat5)).getString(1)).isEqualTo("kitten");
    assertThat(images.get(uri(dog12)).getString(1)).isEqualTo("puppy");
    assertThat(images.get(uri(dog11)).getString(1)).isEqualTo("puppy");
    assertThat(images.get(uri(dog11)).getInt(4)).isEqualTo(135);

    String ghost = uri(root.resolve("cat/ghost.jpg"));
    assertThat(reasons(result.rejects())).containsExactlyInAnyOrderEntriesOf(Map.of(
        uri(cat28), "conflicting labels in manifest: a, b",
        uri(unlisted), "not in manifest",
        uri(bad), "not an image: unrecognized format",
        uri(blank), "no label in manifest",
        ghost, "listed in manifest but missing"));
    Map<String, Row> rejects = byPath(result.rejects());
    assertThat(rejects.get(ghost).isNullAt(2)).isTrue();
    assertThat(rejects.get(uri(bad)).getLong(2)).isEqualTo(4);
  }

  @Test
  void manifestWithoutALabelColumnIsRefusedNamingIt(SparkSession spark) throws Exception {
    Path root = tmp.resolve("in");
    write(root.resolve("cat/cat.5.jpg"), resource("cat.5.jpg"));
    Path manifest = write(tmp.resolve("m.csv"), "path,class\ncat/cat.5.jpg,cat\n".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> ImageIngest.ingest(spark, root.toString(), new LabelSource.Manifest(manifest.toString())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Manifest " + manifest + " has no column label; columns present: [path, class]; "
            + "expected a header row with path,label");
    Path noPath = write(tmp.resolve("n.csv"), "file,label\ncat/cat.5.jpg,cat\n".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> ImageIngest.ingest(spark, root.toString(), new LabelSource.Manifest(noPath.toString())))
        .hasMessageStartingWith("Manifest " + noPath + " has no column path;");
    assertThatThrownBy(() -> ImageIngest.ingest(spark, root.toString(), new LabelSource.Manifest(tmp + "/none.csv")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Manifest " + tmp + "/none.csv does not exist");
  }

  // ---- inputs that are not a folder of files -----------------------------------------------------

  @Test
  void missingOrEmptyInputIsRefusedNamingTheUri(SparkSession spark) throws Exception {
    String missing = tmp.resolve("nope").toString();
    assertThatThrownBy(() -> ImageIngest.ingest(spark, missing, new LabelSource.Directory()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Input " + missing + " does not exist");

    Path empty = Files.createDirectories(tmp.resolve("empty/sub"));
    write(empty.resolve(".hidden.jpg"), resource("cat.5.jpg"));
    String emptyUri = "file://" + tmp.resolve("empty");
    assertThatThrownBy(() -> ImageIngest.ingest(spark, emptyUri, new LabelSource.Directory()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Input " + emptyUri + " has no files (names starting with '.' or '_' are skipped)");

    Path file = write(tmp.resolve("one.jpg"), resource("cat.5.jpg"));
    assertThatThrownBy(() -> ImageIngest.ingest(spark, file.toString(), new LabelSource.None()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Input " + file + " is not a directory; ingest reads a folder of images");
  }

  // ---- one decoding pass -------------------------------------------------------------------------

  @Test
  void outputsComeFromTheCacheNotFromTheFiles(SparkSession spark) throws Exception {
    Path root = tmp.resolve("gone");
    write(root.resolve("cat/cat.5.jpg"), resource("cat.5.jpg"));
    write(root.resolve("cat/empty.jpg"), new byte[0]);
    IngestResult result = ImageIngest.ingest(spark, root.toString(), new LabelSource.Directory());

    // Once counted, the files can go: a second decode would have nothing to read.
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
    assertThat(result.images().collectAsList()).hasSize(1);
    assertThat(reasons(result.rejects())).containsOnlyKeys(uri(root.resolve("cat/empty.jpg")));
  }

  @Test
  void pathsComeBackExactlyAsSparkListsThem(SparkSession spark) throws Exception {
    Path root = tmp.resolve("odd names");
    Path spaced = write(root.resolve("big cat/cat 5.jpg"), resource("cat.5.jpg"));
    Path manifest = write(tmp.resolve("odd.csv"),
        "path,label\n\"big cat/cat 5.jpg\",cat\n".getBytes(StandardCharsets.UTF_8));
    IngestResult byDir = ImageIngest.ingest(spark, root.toString(), new LabelSource.Directory());
    IngestResult byManifest =
        ImageIngest.ingest(spark, root.toString(), new LabelSource.Manifest(manifest.toString()));
    List<Row> dirRows = byDir.images().collectAsList();
    List<Row> manifestRows = byManifest.images().collectAsList();
    assertThat(dirRows).hasSize(1);
    assertThat(dirRows.get(0).getString(0)).isEqualTo(uri(spaced));
    assertThat(dirRows.get(0).getString(1)).isEqualTo("big cat");
    assertThat(manifestRows).hasSize(1);
    assertThat(manifestRows.get(0).getString(0)).isEqualTo(uri(spaced));
  }

  @Test
  void decodesInOnePartitionPerCoreOrPerTwoThousandFilesUnlessTheBytesAskForFewer() {
    // 500 small images: Spark's file sizing (4 MB open cost each) would make 16
    assertThat(ImageIngest.partitions(16, 500, 2)).isEqualTo(2);
    assertThat(ImageIngest.partitions(64, 2_002, 2)).isEqualTo(2);
    assertThat(ImageIngest.partitions(782, 25_000, 2)).isEqualTo(13);
    assertThat(ImageIngest.partitions(782, 25_000, 100)).isEqualTo(100);
    assertThat(ImageIngest.partitions(1, 10, 4)).isEqualTo(1);
    assertThat(ImageIngest.partitions(16, 3, 4)).isEqualTo(3);
  }
}
