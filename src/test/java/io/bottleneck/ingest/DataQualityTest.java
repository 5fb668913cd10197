package io.bottleneck.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class DataQualityTest {
  private static final StructType SPLIT_SCHEMA =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("label", DataTypes.StringType)
          .add("content_hash", DataTypes.StringType)
          .add("split", DataTypes.StringType);

  /**
   * 8 cats and 2 dogs in train, 2 cats and 1 dog in validation; hash h1 three times (two in
   * train, one in validation: leakage), h2 twice under two labels (both train), the rest unique.
   */
  private static Dataset<Row> images(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create("file:/d/cat.1.jpg", "cat", "h1", "train"));
    rows.add(RowFactory.create("file:/d/cat.1-copy.jpg", "cat", "h1", "train"));
    rows.add(RowFactory.create("file:/d/cat.9.jpg", "cat", "h1", "validation"));
    rows.add(RowFactory.create("file:/d/cat.2.jpg", "cat", "h2", "train"));
    rows.add(RowFactory.create("file:/d/dog.2.jpg", "dog", "h2", "train"));
    for (int i = 3; i < 8; i++) {
      rows.add(RowFactory.create("file:/d/cat." + i + ".jpg", "cat", "c" + i, "train"));
    }
    rows.add(RowFactory.create("file:/d/dog.3.jpg", "dog", "d3", "train"));
    rows.add(RowFactory.create("file:/d/cat.10.jpg", "cat", "c10", "validation"));
    rows.add(RowFactory.create("file:/d/dog.4.jpg", "dog", "d4", "validation"));
    return spark.createDataFrame(rows, SPLIT_SCHEMA).repartition(3);
  }

  @Test
  void findsDuplicatesConflictingLabelsLeakageAndImbalance(SparkSession spark) {
    DataQuality q = DataQuality.of(images(spark), 5);
    assertThat(q.duplicateGroups()).isEqualTo(2);
    assertThat(q.duplicateFiles()).isEqualTo(3);
    assertThat(q.duplicateExamples()).containsExactly(
        List.of("file:/d/cat.1-copy.jpg", "file:/d/cat.1.jpg", "file:/d/cat.9.jpg"),
        List.of("file:/d/cat.2.jpg", "file:/d/dog.2.jpg"));
    assertThat(q.conflictingLabels()).isEqualTo(1);
    assertThat(q.leakedImages()).isEqualTo(1);
    assertThat(q.leakageExamples()).containsExactly(
        List.of("train: file:/d/cat.1-copy.jpg", "train: file:/d/cat.1.jpg", "validation: file:/d/cat.9.jpg"));
    assertThat(q.classCounts()).isEqualTo(Map.of(
        "train", Map.of("cat", 8L, "dog", 2L), "validation", Map.of("cat", 2L, "dog", 1L)));
    assertThat(q.imbalanceRatio()).isEqualTo(4.0);

    List<String> strict = q.warnings(3.0);
    assertThat(strict).hasSize(3);
    assertThat(strict.get(0)).startsWith("1 image(s) appear in more than one split").contains("--dedupe");
    assertThat(strict.get(1)).startsWith("1 image(s) occur under more than one label");
    assertThat(strict.get(2)).startsWith("Class imbalance: the largest class has 4.0 times").contains("quality.max-imbalance-ratio");
    assertThat(q.warnings(4.0)).hasSize(2);
  }

  @Test
  void dropDuplicatesKeepsTheFirstPathOfEachContentWhateverThePartitioning(SparkSession spark) {
    Dataset<Row> all = images(spark);
    Dataset<Row> once = DataQuality.dropDuplicates(all.drop("split"));
    List<String> kept = once.orderBy("path").select("path").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(kept).hasSize(10).contains("file:/d/cat.1-copy.jpg", "file:/d/cat.2.jpg")
        .doesNotContain("file:/d/cat.1.jpg", "file:/d/cat.9.jpg", "file:/d/dog.2.jpg");
    List<String> again = DataQuality.dropDuplicates(all.drop("split").repartition(1)).orderBy("path")
        .select("path").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(again).isEqualTo(kept);
    DataQuality clean = DataQuality.of(once, 5);
    assertThat(clean.duplicateGroups()).isZero();
    assertThat(clean.classCounts()).containsOnlyKeys("all");
    assertThat(clean.warnings(5.0)).isEmpty();
  }
}
