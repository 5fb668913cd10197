package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.NearDuplicates;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.report.Reports;
import io.bottleneck.report.RunReport;
import io.bottleneck.train.TrainStage;
import io.bottleneck.train.Trained;
import io.bottleneck.train.TrainingFiles;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Trains the dense head on a featurized dataset (output of featurize). Rows with split =",
      "validation are the validation set; without a split column every row trains. Writes the",
      "model bundle to --output, with history.csv and (given validation rows) metrics.json."
    })
final class TrainCommand extends JobCommand {
  @Override
  boolean usesBase() {
    return true;
  }

  @Option(names = "--input", paramLabel = "URI", required = true, description = "Featurized dataset, Parquet (key: input).")
  String input;

  @Option(names = "--output", paramLabel = "DIR", required = true, description = "Model bundle directory (key: output).")
  String output;

  @Option(names = "--epochs", paramLabel = "N", description = "Maximum epochs (key: train.epochs).")
  Integer epochs;

  @Option(names = "--seed", description = "Training seed (key: split.seed).")
  Long seed;

  @Option(names = "--fine-tune", paramLabel = "BLOCKS", description = "Unfreeze and train the base's last blocks after the head, 0 = off (key: fine-tune.blocks).")
  Integer fineTune;

  @Option(names = "--tta", paramLabel = "none|flip", description = "Test-time augmentation of the validation metrics (key: tta).")
  String tta;

  @Option(names = "--cache", paramLabel = "URI", description = "Feature cache root, for fine-tuning and TTA (key: featurize.cache).")
  String cache;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("output", output);
    keys.put("train.epochs", epochs);
    keys.put("split.seed", seed);
    keys.put("fine-tune.blocks", fineTune);
    keys.put("tta", tta);
    keys.put("featurize.cache", cache);
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    String in = HadoopFiles.qualify(cfg.input, spark);
    String out = HadoopFiles.qualify(cfg.output, spark);
    var conf = spark.sparkContext().hadoopConfiguration();
    String metaUri = HadoopFiles.child(in, FeaturizeCommand.META_FILE);
    if (!HadoopFiles.exists(metaUri, conf)) {
      throw new IllegalArgumentException(in + " has no " + FeaturizeCommand.META_FILE + ": train reads the output of featurize");
    }
    Map<String, Object> featureMeta = Json.parseObject(HadoopFiles.readString(metaUri, conf), metaUri);
    Dataset<Row> featured = spark.read().parquet(in);
    NearDuplicates near = FeatureStage.nearDuplicates(featured, cfg, Reports.QUALITY_EXAMPLES);
    Trained trained =
        TrainStage.trainAndEvaluate(
            spark,
            featured,
            featureMeta.get("base").toString(),
            featureMeta.get("preprocessing").toString(),
            ((Number) featureMeta.get("feature_size")).intValue(),
            cfg,
            FeatureStage.featureCache(spark, cfg),
            Map.of("input", in, "seed", cfg.seed));
    ModelBundle bundle = trained.bundle();
    // overwrite: a re-run with the same --output replaces the model, as it always has
    bundle.save(out, conf, true);
    if (!bundle.metrics().isEmpty()) {
      HadoopFiles.writeString(HadoopFiles.child(out, "metrics.json"), Json.pretty(bundle.metrics()), spark);
    }
    TrainingFiles.write(spark, out, trained);
    Reports.write(spark, cfg, out, () -> {
      Map<String, Object> facts = new LinkedHashMap<>();
      facts.put("model_id", bundle.modelId());
      facts.put("input", in);
      facts.put("output", out);
      facts.put("base", bundle.baseId());
      facts.put("seed", cfg.seed);
      facts.put("head", bundle.training().get("head"));
      facts.put("versions", Reports.versions(spark));
      RunReport report = new RunReport("Bottleneck training run " + bundle.modelId()).facts("Run", facts);
      if (near != null) {
        report.warnings(near.warnings());
      }
      Reports.addNearDuplicates(spark, cfg, report, near);
      Reports.addTraining(report, trained);
      Reports.addEvaluation(spark, cfg, report, "Validation", trained.metrics());
      return report;
    });
    System.out.println("model: " + out + " (" + bundle.modelId() + ")");
    System.out.println(trained.metrics() == null ? "{}" : trained.metrics().summaryJson());
    return Main.OK;
  }
}
