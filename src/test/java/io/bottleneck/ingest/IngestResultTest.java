package io.bottleneck.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.testing.LocalSpark;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class IngestResultTest {
  @TempDir Path tmp;

  /** The RDDs the session holds persisted. */
  private static java.util.Set<Integer> persisted(SparkSession spark) {
    return new java.util.HashSet<>(
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext()).getPersistentRDDs().keySet());
  }

  /** Whether computing {@code data} reads one of the {@code persisted} RDDs (a persisted RDD in its lineage). */
  private static boolean readsCache(Dataset<Row> data, java.util.Set<Integer> persisted) {
    java.util.ArrayDeque<org.apache.spark.rdd.RDD<?>> todo = new java.util.ArrayDeque<>();
    todo.add(data.rdd());
    while (!todo.isEmpty()) {
      org.apache.spark.rdd.RDD<?> rdd = todo.pop();
      if (persisted.contains(rdd.id()) && rdd.getStorageLevel().useMemory()) {
        return true;
      }
      scala.collection.Iterator<org.apache.spark.Dependency<?>> deps = rdd.dependencies().iterator();
      while (deps.hasNext()) {
        todo.add(deps.next().rdd());
      }
    }
    return false;
  }

  @Test
  void closeReleasesThePersistedRowsAndTheOutputsStillWork(SparkSession spark) throws Exception {
    Path root = tmp.resolve("in");
    ImageIngestTest.write(root.resolve("cat.1.png"), ImageIngestTest.png(4, 3, 0xff112233));
    ImageIngestTest.write(root.resolve("dog.1.txt"), "not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    java.util.Set<Integer> before = persisted(spark);
    IngestResult result;
    java.util.Set<Integer> byIngest;
    try (IngestResult r = ImageIngest.ingest(spark, root.toString(), new LabelSource.FilenamePrefix())) {
      result = r;
      byIngest = persisted(spark);
      byIngest.removeAll(before);
      assertThat(byIngest).as("ingest persists its decoded rows once").hasSize(1);
      assertThat(readsCache(r.images(), byIngest)).as("images read the persisted rows").isTrue();
      assertThat(readsCache(r.rejects(), byIngest)).as("rejects read the persisted rows").isTrue();
    }
    assertThat(persisted(spark)).as("released by close").doesNotContainAnyElementsOf(byIngest);
    assertThat(readsCache(result.images(), byIngest)).isFalse();
    // recomputed from the files after close
    assertThat(result.images().count()).isEqualTo(1);
    assertThat(result.rejects().count()).isEqualTo(1);
    result.close(); // a second close is harmless
  }

  @Test
  void aResultBuiltByHandHasNothingToRelease(SparkSession spark) {
    Dataset<Row> empty = spark.emptyDataFrame();
    IngestResult r = new IngestResult(empty, empty, 0, 0, 0, 0, List.of());
    r.close();
    assertThat(r.counts()).containsEntry("listed", 0L).doesNotContainKey("empty_class_folders");
  }
}
