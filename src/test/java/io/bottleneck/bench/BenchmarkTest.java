package io.bottleneck.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.io.Json;
import io.bottleneck.nets.Bases;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.train.HeadConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(LocalSpark.class)
class BenchmarkTest {
  @TempDir Path tmp;

  @Test
  void measuresEverythingOnTinySizes(SparkSession spark) throws Exception {
    Path input = tmp.resolve("input");
    Files.createDirectories(input);
    for (String name : List.of("cat.0.jpg", "dog.0.jpg")) {
      try (var in = getClass().getResourceAsStream("/features/" + name)) {
        Files.copy(in, input.resolve(name));
      }
    }
    Path work = tmp.resolve("work");
    Benchmark.Settings settings =
        new Benchmark.Settings(
            input.toString(), "filename", work.toString(), 8, List.of(4), Bases.DEFAULT, Bases.DEFAULT_ENGINE, 4, 0, 42,
            HeadConfig.defaults().withBatchSizePerWorker(4).withAveragingFrequency(1), 1);
    Benchmark benchmark = new Benchmark(spark, settings);
    BenchReport report = benchmark.run();
    Map<String, Object> json = report.toJson();

    for (String key : BenchReportTest.KEYS) {
      assertThat(json).containsKey(key);
      assertThat(((Number) json.get(key)).doubleValue()).as(key).isPositive();
    }
    assertThat(json).containsEntry("images", 8).containsEntry("batch_size", 4);
    assertThat(report.featurizeWarmSeconds()).isPositive();
    assertThat(report.scale()).hasSize(1);
    BenchReport.ScaleStep step = report.scale().get(0);
    assertThat(step.images()).isEqualTo(4);
    assertThat(step.seconds()).isPositive();
    assertThat(step.warmSeconds()).isPositive();
    assertThat(step.peakRssBytes()).isGreaterThanOrEqualTo(step.startRssBytes()).isPositive();
    assertThat(step.peakHeapBytes()).isPositive();

    // images kept for the next run, caches removed, report written
    assertThat(JitteredImages.images(work.resolve("8"))).hasSize(8);
    assertThat(JitteredImages.images(work.resolve("4"))).hasSize(4);
    assertThat(work.resolve("caches")).isEmptyDirectory();
    Path file = benchmark.writeJson(report);
    assertThat(file.getFileName().toString()).startsWith("bench-").endsWith(".json");
    assertThat(Json.parseObject(Files.readString(file), file.toString())).containsKeys("featurize_vs_bare", "scale");
  }
}
