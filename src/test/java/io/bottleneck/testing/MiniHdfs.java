package io.bottleneck.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/**
 * A real HDFS in the test JVM: one NameNode and one DataNode (Hadoop's MiniDFSCluster) on
 * loopback ports chosen by the system, storing under {@code target/minidfs/<name>}. Jobs in
 * other processes reach it at {@link #uri()}.
 */
public final class MiniHdfs implements AutoCloseable {
  private final MiniDFSCluster cluster;
  private final String uri;

  private MiniHdfs(MiniDFSCluster cluster) {
    this.cluster = cluster;
    // getURI() says "localhost"; the jobs bind and resolve everything on 127.0.0.1
    this.uri = "hdfs://127.0.0.1:" + cluster.getNameNodePort();
  }

  /** Starts a fresh cluster (any data of an earlier one named {@code name} is formatted away). */
  public static MiniHdfs start(String name) throws IOException {
    Path base = Path.of("target", "minidfs", name).toAbsolutePath();
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, base.toString());
    conf.set("dfs.namenode.rpc-address", "127.0.0.1:0");
    conf.set("dfs.namenode.http-address", "127.0.0.1:0");
    conf.set("dfs.datanode.address", "127.0.0.1:0");
    conf.set("dfs.datanode.http.address", "127.0.0.1:0");
    conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf).numDataNodes(1).format(true).build();
    cluster.waitActive();
    return new MiniHdfs(cluster);
  }

  /** {@code hdfs://127.0.0.1:<port>}, without a trailing slash. */
  public String uri() {
    return uri;
  }

  /** {@code hdfs://127.0.0.1:<port>/<path>} ({@code path} without a leading slash). */
  public String uri(String path) {
    return uri + "/" + path;
  }

  public FileSystem fileSystem() throws IOException {
    return cluster.getFileSystem();
  }

  /** Copies the regular files directly in {@code localDir} into {@code /<hdfsDir>/}. */
  public void upload(Path localDir, String hdfsDir) throws IOException {
    FileSystem fs = fileSystem();
    org.apache.hadoop.fs.Path target = new org.apache.hadoop.fs.Path("/" + hdfsDir);
    fs.mkdirs(target);
    try (var files = Files.list(localDir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        fs.copyFromLocalFile(
            new org.apache.hadoop.fs.Path(file.toUri()), new org.apache.hadoop.fs.Path(target, file.getFileName().toString()));
      }
    }
  }

  /** The files under {@code /<hdfsDir>}, recursively, as paths relative to it. */
  public List<String> listFiles(String hdfsDir) throws IOException {
    org.apache.hadoop.fs.Path dir = fileSystem().makeQualified(new org.apache.hadoop.fs.Path("/" + hdfsDir));
    List<String> names = new ArrayList<>();
    RemoteIterator<LocatedFileStatus> it = fileSystem().listFiles(dir, true);
    while (it.hasNext()) {
      names.add(dir.toUri().relativize(it.next().getPath().toUri()).getPath());
    }
    return names;
  }

  public boolean exists(String path) throws IOException {
    return fileSystem().exists(new org.apache.hadoop.fs.Path("/" + path));
  }

  public byte[] readBytes(String path) throws IOException {
    try (FSDataInputStream in = fileSystem().open(new org.apache.hadoop.fs.Path("/" + path))) {
      return in.readAllBytes();
    }
  }

  public String readString(String path) throws IOException {
    return new String(readBytes(path), StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    cluster.shutdown(true);
  }
}
