package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.split.SplitResult;
import io.bottleneck.split.StratifiedSplit;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "split",
    mixinStandardHelpOptions = true,
    description = "Adds a stratified, seeded train/validation split column to an ingested image dataset (Parquet).")
final class SplitCommand extends JobCommand {
  @Option(names = "--input", paramLabel = "URI", required = true, description = "Ingested images, Parquet (key: input).")
  String input;

  @Option(names = "--output", paramLabel = "URI", required = true, description = "Output Parquet dataset (key: output).")
  String output;

  @Option(names = "--test-size", paramLabel = "SIZE", description = "Validation share: fraction or count (key: split.test-size).")
  Double testSize;

  @Option(names = "--seed", description = "Split seed (key: split.seed).")
  Long seed;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("output", output);
    keys.put("split.test-size", testSize);
    keys.put("split.seed", seed);
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) {
    Dataset<Row> images = spark.read().parquet(HadoopFiles.qualify(cfg.input, spark));
    SplitResult split = StratifiedSplit.splitWithCounts(images, cfg.testSize, cfg.seed);
    String out = HadoopFiles.qualify(cfg.output, spark);
    split.rows().write().mode(SaveMode.Overwrite).parquet(out);
    Map<String, Long> counts = split.rowsPerSplit(spark.read().schema(split.rows().schema()).parquet(out));
    System.out.println(io.bottleneck.io.Json.oneLine(counts));
    return Main.OK;
  }
}
