package io.bottleneck.job;

import io.bottleneck.bench.BenchReport;
import io.bottleneck.bench.Benchmark;
import io.bottleneck.config.JobConfig;
import io.bottleneck.io.Json;
import io.bottleneck.train.TrainStage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "Measures featurization and head training on the same distinct images (jittered",
      "copies of bench.input) in Spark local mode: decode ceiling, bare 1-JVM loop,",
      "featurize stage with the cache cold and warm, one head epoch on Spark and in one",
      "JVM; with --scale, seconds per 1,000 images and peak memory at each size. Prints",
      "a table, then one JSON line, also written to <work-dir>/bench-<timestamp>.json."
    })
final class BenchCommand extends JobCommand {
  @Override
  boolean usesBase() {
    return true;
  }

  @Option(names = "--images", paramLabel = "N", description = "Distinct images to measure on (key: bench.images).")
  Integer images;

  @Option(names = "--base", paramLabel = "NAME", description = "mobilenet_v1_0.25, squeezenet_1.1, mobilenet_v2_1.0 or a declared base (key: base).")
  String base;

  @Option(
      names = "--scale",
      paramLabel = "N",
      split = ",",
      splitSynopsisLabel = ",",
      description = "Sizes of the scaling run, e.g. 2000,25000 (key: bench.scale).")
  List<Integer> scale;

  @Option(names = "--engine", paramLabel = "tensorflow|onnx|dl4j", description = "Inference engine of the built-in bases (key: featurize.engine).")
  String engine;

  @Option(names = "--input", paramLabel = "URI", description = "Images the copies derive from (key: bench.input).")
  String input;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Local folder for images, caches, reports (key: bench.work-dir).")
  String workDir;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("bench.images", images);
    keys.put("base", base);
    keys.put("bench.scale", scale);
    keys.put("bench.input", input);
    keys.put("featurize.engine", engine);
    keys.put("bench.work-dir", workDir);
  }

  @Override
  void validate(JobConfig cfg) {
    if (cfg.base.contains("+")) {
      throw new io.bottleneck.config.ConfigError(
          "--base " + cfg.base + ": the benchmark measures one base at a time, not an ensemble");
    }
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    Benchmark.Settings settings =
        new Benchmark.Settings(
            cfg.benchInput,
            cfg.labelFrom,
            cfg.benchWorkDir,
            cfg.benchImages,
            cfg.benchScale,
            cfg.base,
            cfg.featurizeEngine,
            cfg.featurizeBatchSize,
            cfg.featurizePartitions,
            cfg.benchSeed,
            TrainStage.headConfig(cfg),
            Benchmark.HEAD_REPEATS);
    Benchmark benchmark = new Benchmark(spark, settings);
    BenchReport report = benchmark.run();
    Path json = benchmark.writeJson(report);
    System.out.print(report.table());
    System.out.println("report: " + json);
    System.out.println(Json.oneLine(report.toJson()));
    return Main.OK;
  }
}
