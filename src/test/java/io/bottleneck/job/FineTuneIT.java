package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.Samples;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shaded jar through the launcher: a pipeline that fine-tunes SqueezeNet's last layers with
 * flip TTA, then predict and evaluate with the tuned bundle, which featurize the frozen part.
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
class FineTuneIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path work;

  @Test
  void aFineTunedBundleTrainsEvaluatesAndPredictsEndToEnd() throws Exception {
    Path train = Samples.catsAndDogs(work.resolve("train"), 12);
    Launcher.Result r =
        Launcher.run(work, "pipeline", "--input", train.toString(), "--label-from", "filename",
            "--base", "squeezenet_1.1", "--fine-tune", "1", "--tta", "flip", "--epochs", "4",
            "--set", "fine-tune.epochs=2", "--set", "fine-tune.learning-rate=0.001",
            "--set", "featurize.cache=" + work.resolve("cache"), "--output", "run", "--run-id", "ft",
            "--predict-input", Launcher.sample("predict").getPath());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode metrics = JSON.readTree(r.lastLine());
    assertThat(metrics.get("n").asInt()).isEqualTo(5);

    Path run = work.resolve("run");
    JsonNode bundle = JSON.readTree(run.resolve("model/bundle.json").toFile());
    assertThat(bundle.get("base").asText()).isEqualTo("squeezenet_1.1@tail1");
    assertThat(bundle.get("feature_size").asInt()).isEqualTo(13 * 13 * 64);
    assertThat(bundle.at("/training/fine_tune/blocks").asInt()).isEqualTo(1);
    assertThat(bundle.at("/training/tta").asText()).isEqualTo("flip");
    List<String> history = Files.readAllLines(run.resolve("fine_tune_history.csv"));
    assertThat(history.get(0)).isEqualTo("epoch,loss,accuracy,val_loss,val_accuracy,lr");
    assertThat(history).hasSizeBetween(2, 3);
    assertThat(Files.readAllLines(run.resolve("history.csv"))).hasSizeBetween(2, 5);
    long predictImages;
    try (var files = Files.list(Launcher.sample("predict").toPath())) {
      predictImages = files.count();
    }
    Dataset<Row> predicted = LocalSpark.session().read().parquet(run.resolve("predictions").toString());
    assertThat(predicted.count()).isEqualTo(predictImages);

    // predict and evaluate with the saved bundle: the frozen part's features come from the cache
    Launcher.Result predict =
        Launcher.run(work, "predict", "--model", "run/model", "--input", Launcher.sample("predict").getPath(),
            "--output", "again", "--run-id", "again", "--tta", "flip", "--cache", work.resolve("cache").toString());
    assertThat(predict.exitCode()).as(predict.toString()).isZero();
    Dataset<Row> again = LocalSpark.session().read().parquet(work.resolve("again").toString());
    assertThat(again.count()).isEqualTo(predictImages);
    // same bundle, same images, same TTA: the same labels as the pipeline's own prediction step
    assertThat(again.select("path", "predicted_label").orderBy("path").collectAsList())
        .isEqualTo(predicted.select("path", "predicted_label").orderBy("path").collectAsList());
    assertThat(predict.stderr()).contains("all " + predictImages + " distinct images found in the cache");

    Launcher.Result evaluate =
        Launcher.run(work, "evaluate", "--model", "run/model", "--input", train.toString(), "--label-from", "filename",
            "--cache", work.resolve("cache").toString());
    assertThat(evaluate.exitCode()).as(evaluate.toString()).isZero();
    assertThat(JSON.readTree(evaluate.lastLine()).get("n").asInt()).isEqualTo(24);
  }
}
