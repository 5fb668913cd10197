package io.bottleneck.testing;

import com.amazonaws.auth.AWSStaticCredentialsProvider;
import com.amazonaws.auth.BasicAWSCredentials;
import com.amazonaws.client.builder.AwsClientBuilder.EndpointConfiguration;
import com.amazonaws.services.s3.AmazonS3;
import com.amazonaws.services.s3.AmazonS3ClientBuilder;
import com.amazonaws.services.s3.model.ListObjectsV2Request;
import com.amazonaws.services.s3.model.ListObjectsV2Result;
import com.amazonaws.services.s3.model.S3Object;
import com.amazonaws.services.s3.model.S3ObjectSummary;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible HTTP server for the tests: s3proxy with its in-memory ("transient")
 * store, started as a child JVM on a free loopback port with a freshly generated access and
 * secret key, which it checks on every request (AWS signature v2 or v4). Its own process
 * because its Jetty, Jackson and Guava clash with Spark's; its jar is copied to
 * target/s3proxy by the build (system property bottleneck.s3proxyJar). Logs go to
 * target/s3proxy/&lt;name&gt;/s3proxy.log.
 */
public final class S3Server implements AutoCloseable {
  public static final String REGION = "us-east-1";
  private static final long START_TIMEOUT_MS = 60_000;

  private final Process process;
  private final String endpoint;
  private final String accessKey;
  private final String secretKey;
  private final AmazonS3 client;

  private S3Server(Process process, String endpoint, String accessKey, String secretKey) {
    this.process = process;
    this.endpoint = endpoint;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
    this.client =
        AmazonS3ClientBuilder.standard()
            .withEndpointConfiguration(new EndpointConfiguration(endpoint, REGION))
            .withPathStyleAccessEnabled(true)
            .withCredentials(new AWSStaticCredentialsProvider(new BasicAWSCredentials(accessKey, secretKey)))
            .build();
  }

  /** Starts a server and waits until it accepts connections; {@code name} names its files. */
  public static S3Server start(String name) throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("bottleneck.s3proxyJar", "target/s3proxy/s3proxy.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(
          "No s3proxy jar at " + jar + "; the build copies it there (mvn generate-test-resources)");
    }
    Path dir = Files.createDirectories(jar.getParent().resolve(name));
    int port = freeLoopbackPort();
    String endpoint = "http://127.0.0.1:" + port;
    String accessKey = "AK" + randomHex(9).toUpperCase();
    String secretKey = randomHex(20);
    Path properties = dir.resolve("s3proxy.properties");
    Files.writeString(
        properties,
        String.join(
            "\n",
            "s3proxy.endpoint=" + endpoint,
            "s3proxy.authorization=aws-v2-or-v4",
            "s3proxy.identity=" + accessKey,
            "s3proxy.credential=" + secretKey,
            // in-memory store; its own identity/credential are not checked by anyone
            "jclouds.provider=transient",
            "jclouds.identity=transient",
            "jclouds.credential=transient",
            ""));
    Path logback = dir.resolve("logback.xml");
    // without a configuration logback logs every request at DEBUG
    Files.writeString(
        logback,
        """
        <configuration>
          <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
            <encoder><pattern>%d{HH:mm:ss} %-5level %logger{20}: %msg%n</pattern></encoder>
          </appender>
          <root level="WARN"><appender-ref ref="STDOUT"/></root>
        </configuration>
        """);
    Path log = dir.resolve("s3proxy.log");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process process =
        new ProcessBuilder(
                java, "-Xmx256m", "-Dlogback.configurationFile=" + logback, "-jar", jar.toString(),
                "--properties", properties.toString())
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    awaitListening(process, port, log);
    return new S3Server(process, endpoint, accessKey, secretKey);
  }

  private static void awaitListening(Process process, int port, Path log) throws IOException, InterruptedException {
    long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "s3proxy exited with " + process.exitValue() + " before listening; its log " + log + ":\n" + Files.readString(log));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
        return;
      } catch (IOException notYet) {
        Thread.sleep(100); // not listening yet: retry until the deadline
      }
    }
    process.destroyForcibly();
    throw new IllegalStateException("s3proxy did not listen on port " + port + " within " + START_TIMEOUT_MS + " ms; see " + log);
  }

  private static int freeLoopbackPort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String randomHex(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /** {@code http://127.0.0.1:<port>}. */
  public String endpoint() {
    return endpoint;
  }

  public String accessKey() {
    return accessKey;
  }

  public String secretKey() {
    return secretKey;
  }

  /** S3A never creates buckets: a job's bucket must exist first. */
  public void createBucket(String bucket) {
    client.createBucket(bucket);
  }

  public void putFile(String bucket, String key, Path file) {
    client.putObject(bucket, key, file.toFile());
  }

  /** Every object key in the bucket under {@code prefix} (directory markers included). */
  public List<String> listKeys(String bucket, String prefix) {
    List<String> keys = new ArrayList<>();
    ListObjectsV2Request request = new ListObjectsV2Request().withBucketName(bucket).withPrefix(prefix);
    ListObjectsV2Result page;
    do {
      page = client.listObjectsV2(request);
      for (S3ObjectSummary s : page.getObjectSummaries()) {
        keys.add(s.getKey());
      }
      request.setContinuationToken(page.getNextContinuationToken());
    } while (page.isTruncated());
    return keys;
  }

  public byte[] readBytes(String bucket, String key) throws IOException {
    try (S3Object object = client.getObject(bucket, key); InputStream in = object.getObjectContent()) {
      return in.readAllBytes();
    }
  }

  @Override
  public void close() throws InterruptedException {
    client.shutdown();
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
