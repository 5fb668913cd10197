package io.bottleneck.features;

import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class NearDuplicatesTest {
  private static final int DIM = 32;
  private static final StructType SCHEMA =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("content_hash", DataTypes.StringType)
          .add("split", DataTypes.StringType)
          .add("view", DataTypes.StringType)
          .add("features", DataTypes.createArrayType(DataTypes.FloatType, false));

  private static Row row(String path, String hash, String split, String view, float[] v) {
    List<Float> list = new ArrayList<>();
    for (float x : v) {
      list.add(x);
    }
    return RowFactory.create(path, hash, split, view, list);
  }

  /** Non-negative like ReLU features, so unrelated vectors still have a positive cosine. */
  private static float[] random(Random r) {
    float[] v = new float[DIM];
    for (int i = 0; i < DIM; i++) {
      v[i] = r.nextFloat();
    }
    return v;
  }

  private static float[] scaled(float[] v, float s) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] *= s;
    }
    return out;
  }

  private static float[] nudged(float[] v, Random r, float amount) {
    float[] out = v.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] += amount * (r.nextFloat() - 0.5f);
    }
    return out;
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }

  @Test
  void findsDifferentFilesWithSimilarFeaturesAcrossSplitsOnly(SparkSession spark) {
    Random r = new Random(7);
    List<Row> rows = new ArrayList<>();
    float[][] train = new float[6][];
    for (int i = 0; i < train.length; i++) {
      train[i] = random(r);
      rows.add(row("file:/d/train" + i + ".jpg", "t" + i, "train", "original", train[i]));
    }
    // a resized copy: same direction, another file
    rows.add(row("file:/d/copy.jpg", "v-copy", "validation", "original", scaled(train[2], 3f)));
    // a burst shot: close to train4
    float[] burst = nudged(train[4], r, 0.05f);
    rows.add(row("file:/d/burst.jpg", "v-burst", "validation", "original", burst));
    // the identical file in both splits is exact leakage (DataQuality's), not a near-duplicate
    rows.add(row("file:/d/same.jpg", "t0", "validation", "original", train[0]));
    // an unrelated image
    rows.add(row("file:/d/other.jpg", "v-other", "validation", "original", random(r)));
    // two near-identical training images are no cross-split problem
    rows.add(row("file:/d/train-twin.jpg", "t-twin", "train", "original", scaled(train[5], 2f)));
    // augmented views are not images of the data set: the view of train3 equal to a held-out vector is ignored
    float[] held = random(r);
    rows.add(row("file:/d/held.jpg", "v-held", "test", "original", held));
    rows.add(row("file:/d/train3.jpg", "t3", "train", "aug-1", held));

    Dataset<Row> featured = spark.createDataFrame(rows, SCHEMA).repartition(3);
    NearDuplicates near = NearDuplicates.find(featured, 0.97, 10, 2);

    assertThat(cosine(burst, train[4])).isGreaterThan(0.97);
    assertThat(near.pairs()).isEqualTo(2);
    assertThat(near.heldOutImages()).isEqualTo(2);
    assertThat(near.examples()).hasSize(2);
    NearDuplicates.Pair first = near.examples().get(0);
    assertThat(first.heldOutPath()).isEqualTo("file:/d/copy.jpg");
    assertThat(first.trainPath()).isEqualTo("file:/d/train2.jpg");
    assertThat(first.heldOutSplit()).isEqualTo("validation");
    assertThat(first.similarity()).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    NearDuplicates.Pair second = near.examples().get(1);
    assertThat(second.heldOutPath()).isEqualTo("file:/d/burst.jpg");
    assertThat(second.trainPath()).isEqualTo("file:/d/train4.jpg");
    assertThat(second.similarity()).isCloseTo(cosine(burst, train[4]), org.assertj.core.data.Offset.offset(1e-5));
    assertThat(near.warnings()).singleElement().asString()
        .startsWith("2 held-out image(s) have a near-duplicate in the training split")
        .contains("file:/d/copy.jpg ~ file:/d/train2.jpg");
    assertThat(near.toMap()).containsEntry("pairs", 2L).containsEntry("held_out_images", 2L);

    // a threshold above the burst shot's similarity keeps only the copy
    double between = (cosine(burst, train[4]) + 1) / 2;
    assertThat(NearDuplicates.find(featured, between, 10, 2).pairs()).isEqualTo(1);
  }

  /** Many rows, several blocks and partitions: the same pairs as a plain double loop over all rows. */
  @Test
  void agreesWithBruteForceWhateverTheBlocksAndPartitions(SparkSession spark) {
    Random r = new Random(11);
    List<Row> rows = new ArrayList<>();
    List<float[]> train = new ArrayList<>();
    List<float[]> held = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      float[] v = random(r);
      train.add(v);
      rows.add(row("file:/t/" + i, "t" + i, "train", "original", v));
    }
    for (int i = 0; i < 60; i++) {
      // every third held-out row is a noisy copy of a training row, at varying distances
      float[] v = i % 3 == 0 ? nudged(train.get(i * 2), r, 0.02f * (i % 7)) : random(r);
      held.add(v);
      rows.add(row("file:/v/" + i, "v" + i, "validation", "original", v));
    }
    double threshold = 0.98;
    List<double[]> expected = new ArrayList<>();
    for (int i = 0; i < train.size(); i++) {
      for (int j = 0; j < held.size(); j++) {
        double c = cosine(train.get(i), held.get(j));
        if (c >= threshold) {
          expected.add(new double[] {j, i, c});
        }
      }
    }
    expected.sort(Comparator.comparingDouble((double[] e) -> -e[2]));
    long expectedImages = expected.stream().mapToDouble(e -> e[0]).distinct().count();
    assertThat(expected.size()).as("planted pairs").isBetween(5, 40);

    for (int partitions : new int[] {1, 4}) {
      for (int blockRows : new int[] {7, 1024}) {
        Dataset<Row> featured = spark.createDataFrame(rows, SCHEMA).repartition(partitions);
        NearDuplicates near = NearDuplicates.find(featured, threshold, 3, blockRows);
        assertThat(near.pairs()).as("%d partitions, blocks of %d", partitions, blockRows).isEqualTo(expected.size());
        assertThat(near.heldOutImages()).isEqualTo(expectedImages);
        assertThat(near.examples()).hasSize(3);
        for (int k = 0; k < 3; k++) {
          assertThat(near.examples().get(k).similarity()).isCloseTo(expected.get(k)[2], org.assertj.core.data.Offset.offset(1e-4));
        }
      }
    }
  }

  /**
   * The default threshold (0.95) on real features: resized, re-encoded copies of five sample images in
   * validation are found next to their originals in train, and none of the sample's 80 distinct
   * photos pairs with another.
   */
  @Test
  void resizedCopiesAreFoundAndDifferentPhotosAreNotWithTheDefaultBase(SparkSession spark) throws Exception {
    List<String> names = new ArrayList<>();
    try (var files = java.nio.file.Files.list(java.nio.file.Path.of("data/sample/train"))) {
      files.map(f -> f.getFileName().toString()).filter(n -> n.matches("(cat|dog)\\.\\d+\\.jpg")).sorted().forEach(names::add);
    }
    assertThat(names).hasSize(80);
    List<byte[]> bytes = new ArrayList<>();
    List<String> paths = new ArrayList<>();
    List<String> splits = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      bytes.add(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("data/sample/train", names.get(i))));
      paths.add(names.get(i));
      splits.add(i % 4 == 0 ? "validation" : "train");
    }
    List<String> copied = List.of(names.get(1), names.get(6), names.get(23), names.get(50), names.get(77));
    for (String name : copied) {
      bytes.add(resizedCopy(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("data/sample/train", name))));
      paths.add("small-" + name);
      splits.add("validation");
    }
    float[][] features;
    try (ImageBase base = Bases.load(MobileNetV1.ID)) {
      features = base.featurizeFiles(bytes, paths);
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < paths.size(); i++) {
      rows.add(row("file:/s/" + paths.get(i), "h-" + paths.get(i), splits.get(i), "original", features[i]));
    }
    double defaultThreshold = io.bottleneck.config.JobConfig.from(
        io.bottleneck.config.ConfigLoader.resolve(null, List.of(), java.util.Map.of())).nearDuplicateSimilarity;
    assertThat(defaultThreshold).isEqualTo(0.95);
    NearDuplicates near = NearDuplicates.find(spark.createDataFrame(rows, SCHEMA).repartition(2), defaultThreshold, 10);

    assertThat(near.pairs()).isEqualTo(5);
    assertThat(near.heldOutImages()).isEqualTo(5);
    for (NearDuplicates.Pair p : near.examples()) {
      assertThat(p.heldOutPath()).isEqualTo(p.trainPath().replace("file:/s/", "file:/s/small-"));
      // measured 0.972-0.99: well above the closest different photos (~0.92 on cats vs dogs)
      assertThat(p.similarity()).isGreaterThan(0.96);
    }
  }

  /** 75% size, JPEG quality 0.8: a copy with other bytes and the same picture. */
  private static byte[] resizedCopy(byte[] jpeg) throws Exception {
    java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(jpeg));
    int w = image.getWidth() * 3 / 4;
    int h = image.getHeight() * 3 / 4;
    java.awt.image.BufferedImage small = new java.awt.image.BufferedImage(w, h, java.awt.image.BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = small.createGraphics();
    g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(image, 0, 0, w, h, null);
    g.dispose();
    javax.imageio.ImageWriter writer = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
    javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
    param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
    param.setCompressionQuality(0.8f);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (javax.imageio.stream.ImageOutputStream stream = javax.imageio.ImageIO.createImageOutputStream(out)) {
      writer.setOutput(stream);
      writer.write(null, new javax.imageio.IIOImage(small, null, null), param);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  @Test
  void nothingFoundIsEmptyAndBadInputIsNamed(SparkSession spark) {
    Random r = new Random(3);
    List<Row> rows = List.of(
        row("file:/a", "a", "train", "original", random(r)),
        row("file:/b", "b", "validation", "original", new float[DIM]));
    Dataset<Row> featured = spark.createDataFrame(rows, SCHEMA);
    NearDuplicates near = NearDuplicates.find(featured, 0.5, 5);
    assertThat(near.pairs()).isZero();
    assertThat(near.examples()).isEmpty();
    assertThat(near.warnings()).isEmpty();

    assertThatThrownBy(() -> NearDuplicates.find(featured.drop("features"), 0.97, 5))
        .hasMessageContaining("features");
    assertThatThrownBy(() -> NearDuplicates.find(featured, 0, 5)).hasMessageContaining("(0, 1]");
    List<Row> ragged = List.of(
        row("file:/a", "a", "train", "original", random(r)),
        row("file:/c", "c", "train", "original", new float[DIM + 1]),
        row("file:/b", "b", "validation", "original", random(r)));
    assertThatThrownBy(() -> NearDuplicates.find(spark.createDataFrame(ragged, SCHEMA).coalesce(1), 0.97, 5))
        .hasStackTraceContaining("file:/c");
  }
}
