package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.export.OnnxExport;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.predict.Scoring;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    description = {
      "Exports a model bundle as one self-contained ONNX file: input 'image' uint8 [N, S, S, 3] RGB resized",
      "to the base's input side, preprocessing, base and head inside, output 'probabilities' float",
      "[N, classes] (see docs/export.md). Runs without Spark. A model that cannot be exported exits 1",
      "saying why, and nothing is written."
    })
final class ExportCommand extends JobCommand {
  @Option(names = "--model", paramLabel = "DIR", description = "Model bundle (key: model).")
  String model;

  @Option(names = "--output", paramLabel = "FILE.onnx", description = "The ONNX file to write (key: output).")
  String output;

  @Option(names = "--tta", paramLabel = "none|flip", description = "Test-time augmentation inside the graph, as predict's (key: tta).")
  String tta;

  @Option(names = "--overwrite", description = "Replace the file if it exists (else an existing file is an error).")
  boolean overwrite;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("model", model);
    keys.put("output", output);
    keys.put("tta", tta);
  }

  @Override
  void validate(JobConfig cfg) {
    require(cfg.model, "--model", "model");
    requireModelList(cfg.model);
    require(cfg.output, "--output", "output");
  }

  @Override
  boolean withoutSpark() {
    return true;
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) {
    throw new IllegalStateException("export runs without Spark");
  }

  @Override
  int runWithoutSpark(JobConfig cfg) throws Exception {
    List<String> uris = Scoring.uris(cfg.model);
    if (uris.size() > 1) {
      throw OnnxExport.averagingRefused(uris);
    }
    Configuration conf = hadoopConf(cfg);
    ModelBundle bundle = ModelBundle.load(HadoopFiles.qualify(uris.get(0), conf), conf);
    OnnxExport.Exported exported = OnnxExport.export(bundle, OnnxExport.Tta.of(cfg.tta), version());
    OnnxExport.write(exported.model(), cfg.output, overwrite, conf);
    Map<String, Object> report = new LinkedHashMap<>();
    report.put("model_id", exported.modelId());
    report.put("base", exported.baseId());
    report.put("output", HadoopFiles.qualify(cfg.output, conf));
    report.put("bytes", exported.model().length);
    report.put("sha256", DeclaredBases.sha256(exported.model()));
    report.put("input", OnnxExport.INPUT);
    report.put("input_size", exported.inputSize());
    report.put("classes", exported.classes());
    report.put("tta", exported.tta().key());
    System.out.println(Json.oneLine(report));
    return Main.OK;
  }

  /** The version Main reports ({@code bottleneck --version}), without the name. */
  static String version() {
    String v = Main.class.getAnnotation(Command.class).version()[0];
    return v.startsWith("Bottleneck ") ? v.substring("Bottleneck ".length()) : v;
  }
}
