package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import java.util.Map;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = {
      "Lists images under --input, infers labels and content hashes, rejects undecodable files.",
      "Writes DIR/images and DIR/rejects (Parquet) and DIR/ingest.json (counts)."
    })
final class IngestCommand extends JobCommand {
  @Option(names = "--input", paramLabel = "URI", description = "Images (key: input).")
  String input;

  @Option(names = "--label-from", paramLabel = "dir|filename|manifest:URI|none", description = "Where labels come from (key: label-from).")
  String labelFrom;

  @Option(names = "--output", paramLabel = "DIR", required = true, description = "Output directory (key: output).")
  String output;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("label-from", labelFrom);
    keys.put("output", output);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.input, "--input", "input");
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    String out = HadoopFiles.qualify(cfg.output, spark);
    // ImageIngest logs the counts
    IngestResult result = ImageIngest.ingest(spark, cfg.input, cfg.labelFrom, cfg.exifOrientation);
    result.images().write().mode(SaveMode.Overwrite).parquet(HadoopFiles.child(out, "images"));
    result.rejects().write().mode(SaveMode.Overwrite).parquet(HadoopFiles.child(out, "rejects"));
    Map<String, Object> counts = result.counts();
    HadoopFiles.writeString(HadoopFiles.child(out, "ingest.json"), Json.pretty(counts), spark);
    System.out.println(Json.oneLine(counts));
    result.close();
    return Main.OK;
  }
}
