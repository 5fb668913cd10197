package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.MiniHdfs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The job end to end on a real HDFS (NameNode and DataNode in this JVM, the job in its own):
 * every path an hdfs:// URI.
 */
class HdfsIT extends RemoteStoragePipeline {
  private MiniHdfs hdfs;

  @BeforeAll
  void startHdfs() throws IOException {
    hdfs = MiniHdfs.start("HdfsIT");
    uploadSample();
  }

  @AfterAll
  void stopHdfs() {
    if (hdfs != null) {
      hdfs.close();
    }
  }

  @Override
  String uri(String path) {
    return hdfs.uri(path);
  }

  @Override
  void upload(Path localDir, String path) throws IOException {
    hdfs.upload(localDir, path);
  }

  @Override
  List<String> listFiles(String path) throws IOException {
    return hdfs.listFiles(path);
  }

  @Override
  byte[] read(String path) throws IOException {
    return hdfs.readBytes(path);
  }

  /** One wave of new images streamed end to end on HDFS: input, checkpoint, cache and output. */
  @Test
  @Order(10)
  void streamPredictsAWaveOfNewImagesOnHdfs() throws Exception {
    upload(Launcher.sample("predict").toPath(), "stream/input/wave1");
    Launcher.Result r =
        bottleneck(
            "stream", "--model", uri("runs/r1/model"), "--input", uri("stream/input"), "--checkpoint",
            uri("stream/checkpoint"), "--output", uri("stream/out"), "--cache", uri("cache"), "--run-id", "s1");
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(JSON.readTree(r.lastLine()).get("predicted").asLong()).isEqualTo(PREDICT_IMAGES);
    Dataset<Row> rows = LocalSpark.session().read().parquet(uri("stream/out"));
    assertThat(rows.count()).isEqualTo(PREDICT_IMAGES);
    assertThat(rows.select("path").distinct().count()).isEqualTo(PREDICT_IMAGES);
    assertThat(listFiles("stream/checkpoint")).contains("bottleneck-stream.json").anyMatch(f -> f.startsWith("commits/"));
    assertThat(localFilesWritten()).as("files the job wrote to the local working directory").isEmpty();
  }
}
