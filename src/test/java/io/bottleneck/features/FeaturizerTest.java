package io.bottleneck.features;

import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Images;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.testing.LocalSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class FeaturizerTest {
  @TempDir Path tmp;

  private Path copy(String resource, Path dir, String name) throws Exception {
    Files.createDirectories(dir);
    Path target = dir.resolve(name);
    try (var in = getClass().getResourceAsStream(resource)) {
      Files.copy(in, target);
    }
    return target;
  }

  @Test
  void computesOnlyWhatTheCacheLacksAndKeepsTheRowsColumns(SparkSession spark) throws Exception {
    Path images = tmp.resolve("images");
    copy("/features/cat.0.jpg", images, "cat.0.jpg");
    copy("/features/dog.0.jpg", images, "dog.0.jpg");
    copy("/features/dog.0.jpg", images, "dog.copy.jpg"); // same content: computed once
    String cache = tmp.resolve("cache").toUri().toString();

    Dataset<Row> first = ImageIngest.ingest(spark, images.toUri().toString(), new LabelSource.FilenamePrefix()).images();
    Featurizer.Result r1 = Featurizer.featurize(spark, first, MobileNetV1.ID, cache, 2, 0);
    assertThat(r1.distinctImages()).isEqualTo(2);
    assertThat(r1.computed()).isEqualTo(2);
    assertThat(r1.fromCache()).isZero();
    assertThat(r1.featureSize()).isEqualTo(256);
    assertThat(r1.cacheLocation()).endsWith("/base=mobilenet_v1_0.25/prep=rgb-224-bilinear-pm1-v1_exif");
    List<String> inputColumns = List.of(first.columns());
    assertThat(List.of(r1.featured().columns()).subList(0, inputColumns.size())).isEqualTo(inputColumns);
    assertThat(r1.featured().columns()[inputColumns.size()]).isEqualTo("features");
    assertThat(r1.featured().count()).isEqualTo(3);

    // the executors' vectors equal the base's own output for the same image
    Map<String, float[]> byName =
        r1.featured().collectAsList().stream()
            .collect(Collectors.toMap(row -> Path.of(row.<String>getAs("path")).getFileName().toString(),
                row -> toFloats(row.getList(row.fieldIndex("features")))));
    ImageBase base = Bases.load(MobileNetV1.ID);
    float[] expected =
        base.featurize(List.of(Images.decode(Files.readAllBytes(images.resolve("cat.0.jpg")), "cat.0.jpg")))[0];
    assertThat(byName.get("cat.0.jpg")).containsExactly(expected, org.assertj.core.data.Offset.offset(1e-5f));
    assertThat(byName.get("dog.copy.jpg")).containsExactly(byName.get("dog.0.jpg"));

    // a re-run computes nothing; a new image is the only one computed
    Featurizer.Result again = Featurizer.featurize(spark, first, MobileNetV1.ID, cache, 2, 0);
    assertThat(again.computed()).isZero();
    assertThat(again.fromCache()).isEqualTo(2);
    assertThat(again.featured().count()).isEqualTo(3);

    copy("/ingest/cat.5.jpg", images, "cat.new.jpg");
    Dataset<Row> grown = ImageIngest.ingest(spark, images.toUri().toString(), new LabelSource.FilenamePrefix()).images();
    FeaturizedCounter counter = new FeaturizedCounter();
    spark.sparkContext().addSparkListener(counter);
    Featurizer.Result third = Featurizer.featurize(spark, grown, MobileNetV1.ID, cache, 2, 0);
    assertThat(third.computed()).isEqualTo(1);
    assertThat(third.fromCache()).isEqualTo(2);
    Map<String, float[]> grownByName = byName(third.featured());
    assertThat(grownByName).hasSize(4);
    assertThat(grownByName.get("cat.0.jpg")).containsExactly(byName.get("cat.0.jpg"));
    float[] expectedNew =
        base.featurize(List.of(Images.decode(Files.readAllBytes(images.resolve("cat.new.jpg")), "cat.new.jpg")))[0];
    assertThat(grownByName.get("cat.new.jpg")).containsExactly(expectedNew, org.assertj.core.data.Offset.offset(1e-5f));
    third.featured().count();
    spark.sparkContext().removeSparkListener(counter);
    // the output reuses the computed rows: reading it twice ran the network on one image once
    assertThat(counter.featurized.get()).isEqualTo(1);
    assertThat(Featurizer.readCache(spark, again.cacheLocation()).count()).isEqualTo(3);
    third.close();
    again.close();
    r1.close();
  }

  @Test
  void duplicateCacheEntriesNeverDuplicateRows(SparkSession spark) throws Exception {
    Path images = tmp.resolve("images");
    copy("/features/cat.0.jpg", images, "cat.0.jpg");
    copy("/features/dog.0.jpg", images, "dog.0.jpg");
    String cache = tmp.resolve("cache").toUri().toString();
    Dataset<Row> rows = ImageIngest.ingest(spark, images.toUri().toString(), new LabelSource.FilenamePrefix()).images();
    try (Featurizer.Result first = Featurizer.featurize(spark, rows, MobileNetV1.ID, cache, 2, 0)) {
      // what two concurrent runs featurizing the same images leave behind, here written as
      // files at the cache's top level, where versions before per-call folders wrote them
      Dataset<Row> entries = Featurizer.readCache(spark, first.cacheLocation());
      entries.union(entries).write().mode(org.apache.spark.sql.SaveMode.Append).parquet(first.cacheLocation() + "-copy");
      spark.read().parquet(first.cacheLocation() + "-copy").write().mode(org.apache.spark.sql.SaveMode.Append)
          .parquet(first.cacheLocation());
      assertThat(Featurizer.readCache(spark, first.cacheLocation()).count()).isEqualTo(6);
    }
    try (Featurizer.Result again = Featurizer.featurize(spark, rows, MobileNetV1.ID, cache, 2, 0)) {
      assertThat(again.computed()).isZero();
      assertThat(again.distinctImages()).isEqualTo(2);
      assertThat(again.featured().count()).isEqualTo(2);
    }
  }

  /** Sums the updates of the featurizer's accumulator over every finished task. */
  private static final class FeaturizedCounter extends org.apache.spark.scheduler.SparkListener {
    final java.util.concurrent.atomic.AtomicLong featurized = new java.util.concurrent.atomic.AtomicLong();

    @Override
    public void onTaskEnd(org.apache.spark.scheduler.SparkListenerTaskEnd end) {
      scala.collection.Iterator<org.apache.spark.scheduler.AccumulableInfo> it = end.taskInfo().accumulables().iterator();
      while (it.hasNext()) {
        var info = it.next();
        if (info.name().isDefined() && info.name().get().equals("featurized images") && info.update().isDefined()) {
          featurized.addAndGet(((Number) info.update().get()).longValue());
        }
      }
    }
  }

  private static Map<String, float[]> byName(Dataset<Row> featured) {
    return featured.collectAsList().stream()
        .collect(Collectors.toMap(row -> Path.of(row.<String>getAs("path")).getFileName().toString(),
            row -> toFloats(row.getList(row.fieldIndex("features")))));
  }

  @Test
  void schemaIsCheckedBeforeAnyWork(SparkSession spark) {
    Dataset<Row> noHash = spark.sql("SELECT 'file:/x.jpg' AS path, 7 AS content_hash");
    assertThatThrownBy(() -> Featurizer.featurize(spark, noHash, MobileNetV1.ID, tmp.toUri().toString(), 8, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column content_hash must be of type string but was actually int.");
    Dataset<Row> already = spark.sql("SELECT 'file:/x.jpg' AS path, 'h' AS content_hash, array(1.0f) AS features");
    assertThatThrownBy(() -> Featurizer.featurize(spark, already, MobileNetV1.ID, tmp.toUri().toString(), 8, 0))
        .hasMessage("Output column features already exists.");
  }

  private static float[] toFloats(List<Object> values) {
    float[] out = new float[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) values.get(i)).floatValue();
    }
    return out;
  }
}
