package io.bottleneck.ingest;

import static org.apache.spark.sql.functions.lit;
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

  /** Whether a new query over {@code data} reads a persisted relation (the cache is looked up per query). */
  private static boolean readsCache(Dataset<Row> data) {
    return data.filter(lit(true)).queryExecution().withCachedData().toString().contains("InMemoryRelation");
  }

  @Test
  void closeReleasesThePersistedRowsAndTheOutputsStillWork(SparkSession spark) throws Exception {
    Path root = tmp.resolve("in");
    ImageIngestTest.write(root.resolve("cat.1.png"), ImageIngestTest.png(4, 3, 0xff112233));
    ImageIngestTest.write(root.resolve("dog.1.txt"), "not an image".getBytes(java.nio.charset.StandardCharsets.UTF_8));

    IngestResult result;
    try (IngestResult r = ImageIngest.ingest(spark, root.toString(), new LabelSource.FilenamePrefix())) {
      result = r;
      assertThat(readsCache(r.images())).as("images read the persisted rows").isTrue();
      assertThat(readsCache(r.rejects())).as("rejects read the persisted rows").isTrue();
    }
    assertThat(readsCache(result.images())).as("released by close").isFalse();
    assertThat(readsCache(result.rejects())).isFalse();
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
