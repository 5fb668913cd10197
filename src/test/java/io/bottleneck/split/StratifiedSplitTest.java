package io.bottleneck.split;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

import io.bottleneck.testing.LocalSpark;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class StratifiedSplitTest {
  private static final StructType SCHEMA =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("label", DataTypes.StringType)
          .add("content_hash", DataTypes.StringType)
          .add("size", DataTypes.LongType);

  /** 37 cats and 23 dogs, all distinct. */
  private static final List<Row> CATS_AND_DOGS = new ArrayList<>();

  @BeforeAll
  static void images() {
    for (int i = 0; i < 37; i++) {
      CATS_AND_DOGS.add(image("cat/" + i + ".jpg", "cat", "cat" + i));
    }
    for (int i = 0; i < 23; i++) {
      CATS_AND_DOGS.add(image("dog/" + i + ".jpg", "dog", "dog" + i));
    }
  }

  private static Row image(String path, String label, String content) {
    return RowFactory.create("file:/data/" + path, label, sha256(content), 1000L);
  }

  private static String sha256(String s) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Dataset<Row> frame(SparkSession spark, List<Row> rows) {
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** path -> split */
  private static Map<String, String> assignment(Dataset<Row> split) {
    Map<String, String> map = new TreeMap<>();
    for (Row r : split.select("path", "split").collectAsList()) {
      assertThat(map.put(r.getString(0), r.getString(1))).isNull();
    }
    return map;
  }

  /** "label/split" -> number of distinct contents */
  private static Map<String, Long> distinctCounts(Dataset<Row> split) {
    Map<String, Long> counts = new TreeMap<>();
    for (Row r : split.select("label", "split", "content_hash").distinct().collectAsList()) {
      counts.merge(r.getString(0) + "/" + r.getString(1), 1L, Long::sum);
    }
    return counts;
  }

  // ---- allocation (sklearn arithmetic), no Spark -----------------------------------------------

  @Test
  void approximateModeMatchesSklearnDocExamples() {
    assertThat(StratifiedSplit.approximateMode(new long[] {4, 2}, 3)).containsExactly(2, 1);
    assertThat(StratifiedSplit.approximateMode(new long[] {5, 2}, 4)).containsExactly(3, 1);
    // sklearn breaks this three-way tie at random ([0, 1, 1, 0] for rng=0); here the first wins.
    assertThat(StratifiedSplit.approximateMode(new long[] {2, 2, 2, 1}, 2)).containsExactly(1, 1, 0, 0);
    assertThat(StratifiedSplit.approximateMode(new long[] {2, 2, 2, 1}, 0)).containsExactly(0, 0, 0, 0);
  }

  private static Map<String, long[]> allocate(Map<String, Long> counts, double test) {
    return StratifiedSplit.allocate(counts, "testSize", test, "testSize", 0);
  }

  private static Map<String, Long> heldOut(Map<String, long[]> allocation) {
    return allocation.entrySet().stream()
        .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue()[0], (a, b) -> a, TreeMap::new));
  }

  @Test
  void allocationEqualsSklearnStratifiedShuffleSplit() {
    // Expected numbers from sklearn's _validate_shuffle_split + two _approximate_mode calls.
    Map<String, Long> catsDogs = Map.of("cat", 37L, "dog", 23L);
    assertThat(heldOut(allocate(catsDogs, 0.2))).containsExactly(entry("cat", 7L), entry("dog", 5L));
    assertThat(heldOut(allocate(catsDogs, 10))).containsExactly(entry("cat", 6L), entry("dog", 4L));
    // ceil(0.07 * 100) = ceil(7.000000000000001) = 8 in IEEE doubles, in numpy as in Java.
    assertThat(heldOut(allocate(Map.of("a", 50L, "b", 50L), 0.07)))
        .containsExactly(entry("a", 4L), entry("b", 4L));
    // Largest remainder may leave a small class with none held out, as sklearn does.
    assertThat(heldOut(allocate(Map.of("a", 3L, "b", 7L, "c", 11L, "d", 2L), 0.25)))
        .containsExactly(entry("a", 1L), entry("b", 2L), entry("c", 3L), entry("d", 0L));
    // Tied remainders: the extra training image goes to the alphabetically first class.
    assertThat(heldOut(allocate(Map.of("a", 5L, "b", 5L, "c", 5L), 0.5)))
        .containsExactly(entry("a", 2L), entry("b", 3L), entry("c", 3L));
  }

  @Test
  void singleImageClassesStayInTrainAndOutOfTheTotal() {
    Map<String, long[]> a = allocate(Map.of("cat", 37L, "dog", 23L, "bird", 1L), 0.2);
    assertThat(heldOut(a)).containsExactly(entry("bird", 0L), entry("cat", 7L), entry("dog", 5L));
    assertThatThrownBy(() -> allocate(Map.of("bird", 1L, "fish", 1L), 0.2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("No class has two or more distinct images, nothing to split (2 classes)");
  }

  @Test
  void threeWayAllocationSumsExactly() {
    Map<String, long[]> a =
        StratifiedSplit.allocate(Map.of("cat", 37L, "dog", 23L), "validationSize", 0.2, "testSize", 0.1);
    assertThat(a.get("cat")).containsExactly(7, 4);
    assertThat(a.get("dog")).containsExactly(5, 2);
  }

  @Test
  void sizesThatLeaveNoTrainingDataAreRefused() {
    assertThatThrownBy(() -> allocate(Map.of("cat", 37L, "dog", 23L), 60))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("testSize 60 must be smaller than the number of distinct images in classes "
            + "with two or more of them, 60");
    assertThatThrownBy(() -> StratifiedSplit.allocate(
            Map.of("cat", 37L, "dog", 23L), "validationSize", 0.5, "testSize", 0.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("validationSize 0.5 and testSize 0.5 hold out 30 + 30 of 60 distinct images, "
            + "leaving none for training");
  }

  // ---- on Spark --------------------------------------------------------------------------------

  @Test
  void exactPerClassCountsSeededOrderAndPartitionIndependence(SparkSession spark) {
    Dataset<Row> images = frame(spark, CATS_AND_DOGS);
    Dataset<Row> split = StratifiedSplit.split(images, 0.2, 42);

    assertThat(split.columns()).containsExactly("path", "label", "content_hash", "size", "split");
    assertThat(distinctCounts(split)).containsExactly(
        entry("cat/train", 30L), entry("cat/validation", 7L),
        entry("dog/train", 18L), entry("dog/validation", 5L));

    // The held-out images are the first of each class in SHA-256("seed:hash") order.
    Map<String, String> bySplit = assignment(split);
    for (String label : List.of("cat", "dog")) {
      List<Row> ordered = CATS_AND_DOGS.stream()
          .filter(r -> r.getString(1).equals(label))
          .sorted(Comparator.comparing((Row r) -> sha256("42:" + r.getString(2))))
          .collect(Collectors.toList());
      int k = label.equals("cat") ? 7 : 5;
      for (int i = 0; i < ordered.size(); i++) {
        assertThat(bySplit.get(ordered.get(i).getString(0)))
            .isEqualTo(i < k ? "validation" : "train");
      }
    }

    assertThat(assignment(StratifiedSplit.split(images.repartition(1), 0.2, 42))).isEqualTo(bySplit);
    assertThat(assignment(StratifiedSplit.split(images.repartition(7), 0.2, 42))).isEqualTo(bySplit);
    // testSize 0: no test side, the same assignment as the two-way split.
    assertThat(assignment(StratifiedSplit.split(images, 0.2, 0, 42))).isEqualTo(bySplit);
    Map<String, String> otherSeed = assignment(StratifiedSplit.split(images, 0.2, 43));
    assertThat(otherSeed).isNotEqualTo(bySplit);
    assertThat(otherSeed.values().stream().filter("validation"::equals).count()).isEqualTo(12);
  }

  @Test
  void absoluteCountAndThreeWaySplit(SparkSession spark) {
    Dataset<Row> images = frame(spark, CATS_AND_DOGS);
    assertThat(distinctCounts(StratifiedSplit.split(images, 10, 1))).containsExactly(
        entry("cat/train", 31L), entry("cat/validation", 6L),
        entry("dog/train", 19L), entry("dog/validation", 4L));

    assertThat(distinctCounts(StratifiedSplit.split(images, 0.2, 0.1, 1))).containsExactly(
        entry("cat/test", 4L), entry("cat/train", 26L), entry("cat/validation", 7L),
        entry("dog/test", 2L), entry("dog/train", 16L), entry("dog/validation", 5L));
  }

  @Test
  void duplicatesNeverStraddleAndSingletonsTrain(SparkSession spark) {
    List<Row> rows = new ArrayList<>(CATS_AND_DOGS);
    for (int i = 0; i < 10; i++) { // ten cats stored three times each
      rows.add(image("copies/a" + i + ".jpg", "cat", "cat" + i));
      rows.add(image("copies/b" + i + ".jpg", "cat", "cat" + i));
    }
    rows.add(image("dog/mislabelled.jpg", "dog", "cat0")); // same content, other label
    rows.add(image("bird/1.jpg", "bird", "bird"));
    rows.add(image("fish/1.jpg", "fish", "fish"));
    rows.add(image("fish/copy.jpg", "fish", "fish"));
    Dataset<Row> split = StratifiedSplit.split(frame(spark, rows), 0.2, 7);

    assertThat(split.count()).isEqualTo(rows.size());
    Map<String, List<String>> sidesByHash = new HashMap<>();
    for (Row r : split.select("content_hash", "split").distinct().collectAsList()) {
      sidesByHash.computeIfAbsent(r.getString(0), h -> new ArrayList<>()).add(r.getString(1));
    }
    assertThat(sidesByHash).hasSize(62).allSatisfy((hash, sides) -> assertThat(sides).hasSize(1));
    // Distinct contents, cat0 counted under "cat": 7 + 5 held out, as without the copies.
    assertThat(sidesByHash.values().stream().filter(s -> s.contains("validation")).count()).isEqualTo(12);
    assertThat(assignment(split))
        .contains(entry("file:/data/bird/1.jpg", "train"), entry("file:/data/fish/1.jpg", "train"),
            entry("file:/data/fish/copy.jpg", "train"));
  }

  /** What splitWithCounts reports equals what jobs over its rows find, with and without duplicates. */
  @Test
  void countsFromTheSplitEqualCountsOfItsRows(SparkSession spark) {
    List<Row> withCopies = new ArrayList<>(CATS_AND_DOGS);
    withCopies.add(image("copies/a0.jpg", "cat", "cat0"));
    withCopies.add(image("copies/b0.jpg", "cat", "cat0"));
    withCopies.add(image("dog/mislabelled.jpg", "dog", "cat1"));
    withCopies.add(image("bird/1.jpg", "bird", "bird"));
    for (List<Row> rows : List.of(CATS_AND_DOGS, withCopies)) {
      SplitResult result = StratifiedSplit.splitWithCounts(frame(spark, rows).repartition(3), 0.2, 5);
      Dataset<Row> split = result.rows().cache();
      io.bottleneck.ingest.DataQuality scanned = io.bottleneck.ingest.DataQuality.of(split, 5);
      Map<String, Long> perSplit = new TreeMap<>();
      for (Row r : split.groupBy("split").count().collectAsList()) {
        perSplit.put(r.getString(0), r.getLong(1));
      }
      Map<String, Map<String, Long>> distinct = new TreeMap<>();
      for (Row r : split.groupBy("split", "label").agg(functions.countDistinct("content_hash")).collectAsList()) {
        distinct.computeIfAbsent(r.getString(0), k -> new TreeMap<>()).put(r.getString(1), r.getLong(2));
      }

      assertThat(result.rowsPerSplit(split)).isEqualTo(perSplit);
      assertThat(result.duplicateGroups()).isEqualTo(scanned.duplicateGroups());
      assertThat(result.duplicateFiles()).isEqualTo(scanned.duplicateFiles());
      assertThat(result.conflictingLabels()).isEqualTo(scanned.conflictingLabels());
      assertThat(result.quality(split, 5)).isEqualTo(scanned);
      if (rows == CATS_AND_DOGS) {
        assertThat(result.rowsAreDistinct()).isTrue();
        assertThat(result.distinctImages()).isEqualTo(distinct);
        assertThat(result.rowsPerSplit()).containsExactly(entry("train", 48L), entry("validation", 12L));
      } else {
        assertThat(result.rowsAreDistinct()).isFalse();
        assertThat(result.duplicateGroups()).isEqualTo(2);
        assertThat(result.duplicateFiles()).isEqualTo(3);
        assertThat(result.conflictingLabels()).isEqualTo(1);
        assertThatThrownBy(result::rowsPerSplit).isInstanceOf(IllegalStateException.class);
      }
      split.unpersist();
    }
  }

  // ---- input checks ------------------------------------------------------------------------------

  @Test
  void schemaAndValueErrorsSayWhatToFix(SparkSession spark) {
    Dataset<Row> images = frame(spark, CATS_AND_DOGS);
    assertThatThrownBy(() -> StratifiedSplit.split(images.drop("label"), 0.2, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column label of type string is required but missing; columns present: "
            + "[path, content_hash, size]");
    assertThatThrownBy(() -> StratifiedSplit.split(images.withColumn("label", images.col("size")), 0.2, 1))
        .hasMessage("Column label must be of type string but was actually bigint.");
    assertThatThrownBy(() -> StratifiedSplit.split(images.drop("content_hash"), 0.2, 1))
        .hasMessage("Column content_hash of type string is required but missing; columns present: "
            + "[path, label, size]");
    assertThatThrownBy(() -> StratifiedSplit.split(images.withColumn("split", functions.lit("train")), 0.2, 1))
        .hasMessage("Output column split already exists.");
    for (double bad : new double[] {0, -0.1, 1.5, Double.NaN}) {
      assertThatThrownBy(() -> StratifiedSplit.split(images, bad, 1))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("testSize must be a fraction in (0, 1) or a whole number of images >= 1, "
              + "but was " + (bad == 0 ? "0" : Double.toString(bad)));
    }
    assertThatThrownBy(() -> StratifiedSplit.split(images, 0.2, -1, 1))
        .hasMessage("testSize must be a fraction in (0, 1) or a whole number of images >= 1, "
            + "or 0 for none, but was -1");

    List<Row> unlabeled = new ArrayList<>(CATS_AND_DOGS);
    unlabeled.add(RowFactory.create("file:/data/x.jpg", null, sha256("x"), 1L));
    unlabeled.add(RowFactory.create("file:/data/y.jpg", null, sha256("y"), 1L));
    assertThatThrownBy(() -> StratifiedSplit.split(frame(spark, unlabeled), 0.2, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column label has 2 null values; split needs labeled images");
  }
}
