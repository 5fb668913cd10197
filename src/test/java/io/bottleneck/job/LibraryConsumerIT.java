package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bottleneck as a library, the way a Maven or sbt project gets it: the plain jar that {@code mvn
 * install} installs (not the job jar), its compile and runtime dependencies as its POM resolves
 * them, and Spark as the consumer's own (provided). The Java example is compiled against exactly
 * that and run in a JVM of its own.
 */
@Tag("integration")
class LibraryConsumerIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path work;

  @Test
  void theJavaExampleCompilesAndRunsOnTheLibraryJarAndItsDependencies() throws Exception {
    Path libraryJar = Path.of(System.getProperty("bottleneck.libraryJar"));
    assertThat(libraryJar).exists();
    try (var jar = new java.util.jar.JarFile(libraryJar.toFile())) {
      // the plain jar: the project's classes and bundled weights, no shaded dependencies
      assertThat(jar.getEntry("io/bottleneck/ml/ImageFeaturizer.class")).isNotNull();
      assertThat(jar.getEntry("org/nd4j/linalg/factory/Nd4j.class")).isNull();
    }
    List<String> classpath = new ArrayList<>();
    classpath.add(libraryJar.toString());
    classpath.addAll(List.of(Files.readString(Launcher.ROOT.resolve("target/library-classpath.txt")).strip().split(File.pathSeparator)));
    try (Stream<Path> spark = Files.list(Launcher.ROOT.resolve("target/spark-jars"))) {
      spark.map(Path::toString).forEach(classpath::add); // what the consumer's Spark brings
    }
    String cp = String.join(File.pathSeparator, classpath);
    Path source = Launcher.ROOT.resolve("src/test/java/io/bottleneck/examples/ImageClassifierExample.java");
    Path classes = Files.createDirectories(work.resolve("classes"));
    Processes.Result javac = Processes.run(Map.of(), List.of("javac", "-d", classes.toString(), "-cp", cp, source.toString()));
    assertThat(javac.exitCode()).as(javac.toString()).isZero();

    List<String> java = new ArrayList<>(List.of("java"));
    java.addAll(List.of(System.getProperty("bottleneck.jvmOpens").trim().split("\\s+")));
    java.addAll(List.of("-Xmx2g", "-cp", classes + File.pathSeparator + cp, "io.bottleneck.examples.ImageClassifierExample",
        Launcher.sample("train").toURI().toString(), work.resolve("model").toUri().toString()));
    Processes.Result run = Processes.run(Map.of("SPARK_LOCAL_IP", "127.0.0.1"), java, 6);
    System.out.println("ImageClassifierExample: " + run.stdout());
    assertThat(run.exitCode()).as(run.toString()).isZero();
    List<String> lines = run.stdout().lines().filter(l -> !l.isBlank()).toList();
    JsonNode result = JSON.readTree(lines.get(lines.size() - 1));
    assertThat(result.get("classes").toString()).isEqualTo("[\"cat\",\"dog\"]");
    assertThat(result.get("test_images").asInt()).isBetween(10, 30);
    assertThat(result.get("accuracy").asDouble()).isGreaterThanOrEqualTo(0.6);
    assertThat(work.resolve("model/stages")).isDirectory();
  }
}
