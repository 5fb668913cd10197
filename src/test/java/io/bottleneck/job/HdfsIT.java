package io.bottleneck.job;

import io.bottleneck.testing.MiniHdfs;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
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
}
