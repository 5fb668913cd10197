package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.S3Server;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;

/**
 * The job end to end on s3a:// against a real S3 server (s3proxy in its own process, checking
 * request signatures): settings from a --conf file, credentials only from the environment,
 * and the secret key nowhere in what the job prints or writes.
 */
class S3IT extends RemoteStoragePipeline {
  private static final String BUCKET = "bottleneck-it";
  private S3Server s3;
  private Path storageConf;
  private final List<Path> ownLocalFiles = new ArrayList<>();

  @BeforeAll
  void startS3() throws IOException, InterruptedException {
    s3 = S3Server.start("S3IT");
    s3.createBucket(BUCKET);
    uploadSample();
    // the endpoint and its quirks, no credentials: those come from the environment
    storageConf = work.resolve("s3.conf");
    Files.writeString(
        storageConf,
        String.join(
            "\n",
            "bottleneck.spark {",
            "  \"spark.hadoop.fs.s3a.endpoint\" = \"" + s3.endpoint() + "\"",
            "  \"spark.hadoop.fs.s3a.endpoint.region\" = " + S3Server.REGION,
            "  \"spark.hadoop.fs.s3a.path.style.access\" = true",
            "  \"spark.hadoop.fs.s3a.connection.ssl.enabled\" = false",
            "}",
            ""));
    ownLocalFiles.add(storageConf);
    // this JVM reads the job's Parquet output back through S3A too, for this bucket only
    Configuration conf = LocalSpark.session().sparkContext().hadoopConfiguration();
    String bucket = "fs.s3a.bucket." + BUCKET + ".";
    conf.set(bucket + "endpoint", s3.endpoint());
    conf.set(bucket + "endpoint.region", S3Server.REGION);
    conf.set(bucket + "path.style.access", "true");
    conf.set(bucket + "connection.ssl.enabled", "false");
    conf.set(bucket + "aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    conf.set(bucket + "access.key", s3.accessKey());
    conf.set(bucket + "secret.key", s3.secretKey());
  }

  @AfterAll
  void stopS3() throws InterruptedException {
    if (s3 != null) {
      s3.close();
    }
  }

  @Override
  String uri(String path) {
    return "s3a://" + BUCKET + "/" + path;
  }

  @Override
  void upload(Path localDir, String path) throws IOException {
    try (Stream<Path> files = Files.list(localDir)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        s3.putFile(BUCKET, path + "/" + file.getFileName(), file);
      }
    }
  }

  @Override
  List<String> listFiles(String path) {
    String prefix = path + "/";
    return s3.listKeys(BUCKET, prefix).stream()
        .filter(k -> !k.endsWith("/")) // directory markers
        .map(k -> k.substring(prefix.length()))
        .toList();
  }

  @Override
  byte[] read(String path) throws IOException {
    return s3.readBytes(BUCKET, path);
  }

  /** S3A's default credential chain reads these. */
  @Override
  Map<String, String> environment() {
    return Map.of("AWS_ACCESS_KEY_ID", s3.accessKey(), "AWS_SECRET_ACCESS_KEY", s3.secretKey());
  }

  @Override
  List<String> storageOptions() {
    return List.of("--conf", storageConf.toString());
  }

  @Override
  List<Path> ownLocalFiles() {
    return ownLocalFiles;
  }

  @Test
  @Order(0)
  void aSecretOnTheCommandLineIsRefusedBeforeSparkStarts() throws Exception {
    Launcher.Result r =
        bottleneck(
            "pipeline", "--input", uri("data/train"), "--set", "spark.hadoop.fs.s3a.secret.key=" + s3.secretKey());
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr())
        .contains("--set spark.hadoop.fs.s3a.secret.key: credentials are not accepted on the command line")
        .doesNotContain("SparkContext");
  }

  @Test
  @Order(4)
  void credentialsFromTheConfFileTakenFromTheEnvironmentWork() throws Exception {
    // The other documented way: the keys in the --conf file, substituted from variables that
    // S3A itself never reads, with S3A limited to the provider of configured keys: the job can
    // only authenticate if the file's keys arrived.
    Path keysConf = work.resolve("s3-keys.conf");
    Files.writeString(
        keysConf,
        String.join(
            "\n",
            "include \"s3.conf\"",
            "bottleneck.spark {",
            "  \"spark.hadoop.fs.s3a.aws.credentials.provider\" = org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
            "  \"spark.hadoop.fs.s3a.access.key\" = ${?S3_ACCESS_KEY}",
            "  \"spark.hadoop.fs.s3a.secret.key\" = ${?S3_SECRET_KEY}",
            "}",
            ""));
    ownLocalFiles.add(keysConf);
    Launcher.Result r =
        Launcher.run(
            work, Map.of("S3_ACCESS_KEY", s3.accessKey(), "S3_SECRET_KEY", s3.secretKey()),
            "predict", "--conf", keysConf.toString(), "--model", uri("runs/r1/model"), "--input", uri("data/predict"),
            "--cache", uri("cache"), "--output", uri("preds-conf"), "--run-id", "c1");
    runs.add(r);
    assertThat(r.exitCode()).as(r.toString()).isZero();
    assertThat(r.stderr()).contains("all " + PREDICT_IMAGES + " distinct images found in the cache");
    assertThat(LocalSpark.session().read().parquet(uri("preds-conf")).where("run_id = 'c1'").count())
        .isEqualTo(PREDICT_IMAGES);
  }

  @Test
  @Order(10)
  void theSecretKeyIsNowhereInWhatTheJobsPrintedOrWrote() throws Exception {
    String secret = s3.secretKey();
    assertThat(runs).as("the launcher runs of the tests before").hasSize(5);
    for (Launcher.Result r : runs) {
      assertThat(r.stdout()).doesNotContain(secret);
      assertThat(r.stderr()).doesNotContain(secret);
    }
    List<String> keys = s3.listKeys(BUCKET, "");
    assertThat(keys).contains("runs/r1/model/bundle.json", "runs/r1/summary.json", "eval/metrics.json");
    assertThat(keys).anyMatch(k -> k.startsWith("preds-conf/run_id=c1/"));
    for (String key : keys) {
      assertThat(new String(s3.readBytes(BUCKET, key), StandardCharsets.ISO_8859_1)).as(key).doesNotContain(secret);
    }
    try (Stream<Path> files = Files.walk(work)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        assertThat(new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1)).as(file.toString()).doesNotContain(secret);
      }
    }
  }
}
