package io.bottleneck.job;

import static org.apache.spark.sql.functions.col;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.io.Schemas;
import io.bottleneck.train.HeadTrainer;
import io.bottleneck.train.TrainedHead;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
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
  @Option(names = "--input", paramLabel = "URI", required = true, description = "Featurized dataset, Parquet (key: input).")
  String input;

  @Option(names = "--output", paramLabel = "DIR", required = true, description = "Model bundle directory (key: output).")
  String output;

  @Option(names = "--epochs", paramLabel = "N", description = "Maximum epochs (key: train.epochs).")
  Integer epochs;

  @Option(names = "--seed", description = "Training seed (key: split.seed).")
  Long seed;

  @Override
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("output", output);
    keys.put("train.epochs", epochs);
    keys.put("split.seed", seed);
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) throws Exception {
    String in = Stages.qualify(spark, cfg.input);
    String out = Stages.qualify(spark, cfg.output);
    var conf = spark.sparkContext().hadoopConfiguration();
    String metaUri = HadoopFiles.child(in, FeaturizeCommand.META_FILE);
    if (!HadoopFiles.exists(metaUri, conf)) {
      throw new IllegalArgumentException(in + " has no " + FeaturizeCommand.META_FILE + ": train reads the output of featurize");
    }
    Map<String, Object> featureMeta = Json.parseObject(HadoopFiles.readString(metaUri, conf), metaUri);
    Dataset<Row> featured = spark.read().parquet(in);
    boolean hasSplit = Schemas.hasColumn(featured.schema(), Columns.SPLIT);
    Dataset<Row> trainRows = hasSplit ? featured.where(col(Columns.SPLIT).equalTo("train")) : featured;
    List<String> classes = Stages.classes(trainRows);
    Dataset<Row> indexed = Stages.withLabelIndex(featured, classes);
    Dataset<Row> train = hasSplit ? indexed.where(col(Columns.SPLIT).equalTo("train")) : indexed;
    Dataset<Row> validation = hasSplit ? indexed.where(col(Columns.SPLIT).equalTo("validation")) : null;
    TrainedHead trained =
        HeadTrainer.fit(
            JavaSparkContext.fromSparkContext(spark.sparkContext()), train, validation, classes.size(), Stages.headConfig(cfg));
    Map<String, Object> training = new LinkedHashMap<>();
    training.put("head", Stages.headConfig(cfg));
    training.put("epochs_run", trained.history().size());
    training.put("best_epoch", trained.bestEpoch());
    training.put("stopped_early", trained.stoppedEarly());
    training.put("input", in);
    ModelBundle bundle =
        ModelBundle.create(
            featureMeta.get("base").toString(),
            featureMeta.get("preprocessing").toString(),
            ((Number) featureMeta.get("feature_size")).intValue(),
            classes,
            trained.network(),
            training,
            null);
    String summary = "{}";
    if (validation != null && !validation.isEmpty()) {
      ClassificationMetrics metrics = Stages.evaluate(validation.drop(Columns.LABEL_INDEX), bundle, cfg.predictBatchSize);
      bundle = bundle.withMetrics(Json.parseObject(metrics.toJson(), "metrics"));
      summary = metrics.summaryJson();
    }
    bundle.save(out, conf);
    if (!bundle.metrics().isEmpty()) {
      Stages.writeText(spark, HadoopFiles.child(out, "metrics.json"), Json.pretty(bundle.metrics()));
    }
    Stages.writeText(spark, HadoopFiles.child(out, "history.csv"), Stages.historyCsv(trained.history()));
    System.out.println("model: " + out + " (" + bundle.modelId() + ")");
    System.out.println(summary);
    return Main.OK;
  }
}
