package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.Featurizer;
import io.bottleneck.features.TrainingFeatures;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "featurize",
    mixinStandardHelpOptions = true,
    description = {
      "Adds bottleneck features to an image dataset (Parquet with path, content_hash), computing",
      "only what the feature cache lacks. Writes the dataset and its _features.json (base, preprocessing)."
    })
final class FeaturizeCommand extends JobCommand {
  @Override
  boolean usesBase() {
    return true;
  }

  /** Side file naming the base and preprocessing of a featurized dataset, read by train. */
  static final String META_FILE = "_features.json";

  @Option(names = "--input", paramLabel = "URI", required = true, description = "Images, Parquet (key: input).")
  String input;

  @Option(names = "--output", paramLabel = "URI", required = true, description = "Output Parquet dataset (key: output).")
  String output;

  @Option(names = "--base", paramLabel = "NAME", description = "mobilenet_v1_0.25, squeezenet_1.1, mobilenet_v2_1.0, a base declared in bases, or several joined by + (key: base).")
  String base;

  @Option(names = "--engine", paramLabel = "tensorflow|onnx|dl4j", description = "Inference engine of the built-in bases (key: featurize.engine).")
  String engine;

  @Option(names = "--cache", paramLabel = "URI", description = "Feature cache root (key: featurize.cache).")
  String cache;

  @Option(names = "--augment", paramLabel = "K", description = "Augmented views per training image, 0 = none (key: augment.copies).")
  Integer augment;

  @Option(names = "--batch-size", paramLabel = "N", description = "Images per forward pass (key: featurize.batch-size).")
  Integer batchSize;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("output", output);
    keys.put("base", base);
    keys.put("featurize.cache", cache);
    keys.put("featurize.engine", engine);
    keys.put("featurize.batch-size", batchSize);
    keys.put("augment.copies", augment);
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    String out = HadoopFiles.qualify(cfg.output, spark);
    TrainingFeatures features =
        FeatureStage.featurizeForTraining(
            spark, spark.read().parquet(HadoopFiles.qualify(cfg.input, spark)), cfg, FeatureStage.featureCache(spark, cfg));
    Featurizer.Result result = features.original();
    // with augmentation on, the training rows' augmented views are rows too (split = train)
    features.rows().write().mode(SaveMode.Overwrite).parquet(out);
    features.close();
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("base", result.baseId());
    meta.put("preprocessing", result.preprocessingId());
    meta.put("engine", result.engine());
    meta.put("feature_size", result.featureSize());
    HadoopFiles.writeString(HadoopFiles.child(out, META_FILE), Json.pretty(meta), spark);
    Map<String, Object> report = new LinkedHashMap<>(meta);
    report.put("computed", result.computed());
    report.put("from_cache", result.fromCache());
    report.put("images_per_second", PipelineCommand.round(result.imagesPerSecond()));
    if (cfg.augmentation.enabled()) {
      report.put("augmented_computed", features.augmentedComputed());
      report.put("augmented_from_cache", features.augmentedFromCache());
    }
    System.out.println(Json.oneLine(report));
    return Main.OK;
  }
}
