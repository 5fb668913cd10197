package io.bottleneck.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.testing.LocalSpark;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class PredictionWriterTest {
  private static final List<String> CLASSES = List.of("Cat", "dog");
  @TempDir Path tmp;

  private static Dataset<Row> scored(SparkSession spark, int n) {
    StructType schema =
        new StructType()
            .add("path", DataTypes.StringType)
            .add("content_hash", DataTypes.StringType)
            .add("prediction", DataTypes.StringType)
            .add("probabilities", DataTypes.createArrayType(DataTypes.DoubleType));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double p = (i + 0.5) / n;
      rows.add(RowFactory.create("file:/data/test1/" + i + ".jpg", "h" + i, p > 0.5 ? "Cat" : "dog", new double[] {p, 1 - p}));
    }
    return spark.createDataFrame(rows, schema);
  }

  private static Dataset<Row> published(SparkSession spark, int n, String runId) {
    return PredictionWriter.publishedRows(scored(spark, n), CLASSES, "m-1", runId, Timestamp.valueOf("2026-11-23 06:00:00"));
  }

  @Test
  void publishedRowsHaveOneProbabilityColumnPerClassAndRunIdLast(SparkSession spark) {
    Dataset<Row> rows = published(spark, 4, "r1");
    assertThat(rows.columns())
        .containsExactly(
            "path", "predicted_label", "prob_cat", "prob_dog", "model_id", "predicted_at", "content_hash", "run_id");
    Row first = rows.orderBy("path").first();
    assertThat(first.<Double>getAs("prob_cat")).isEqualTo(0.125);
    assertThat(first.<Double>getAs("prob_dog")).isEqualTo(0.875);
  }

  @Test
  void rewritingARunReplacesOnlyThatRun(SparkSession spark) {
    String out = tmp.resolve("preds").toUri().toString();
    PredictionWriter.writeFiles(published(spark, 5, "r1"), out, "parquet");
    PredictionWriter.writeFiles(published(spark, 5, "r1"), out, "parquet");
    PredictionWriter.writeFiles(published(spark, 3, "r2"), out, "parquet");
    Dataset<Row> all = spark.read().parquet(out);
    assertThat(all.where("run_id = 'r1'").count()).isEqualTo(5);
    assertThat(all.where("run_id = 'r2'").count()).isEqualTo(3);
  }

  @Test
  void csvStartsWithKaggleIdAndLabel(SparkSession spark) {
    String out = tmp.resolve("csv").toUri().toString();
    PredictionWriter.writeFiles(published(spark, 4, "r1"), out, "csv");
    Dataset<Row> csv = spark.read().option("header", "true").csv(out);
    assertThat(csv.columns()).startsWith("id", "label", "path");
    List<String> ids = csv.orderBy("path").select("id").as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(ids).containsExactly("0", "1", "2", "3");
  }

  @Test
  void classesThatCollideAsColumnNamesAreRejected(SparkSession spark) {
    assertThatThrownBy(
            () -> PredictionWriter.publishedRows(scored(spark, 2), List.of("a b", "a-b"), "m", "r", new Timestamp(0)))
        .hasMessage("Classes [a b, a-b] give the probability column prob_a_b twice; rename a class");
  }
}
