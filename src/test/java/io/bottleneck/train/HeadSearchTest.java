package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.io.Json;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.testing.LocalSpark;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class HeadSearchTest {
  private static final List<String> AB = List.of("a", "b");

  private static Dataset<Row> train;
  private static Dataset<Row> validation;

  @BeforeAll
  static void data() {
    SparkSession spark = LocalSpark.session();
    Blobs blobs = new Blobs(2, 16, 1.0, 1.0, 41);
    train = blobs.sample(spark, 300, 42, 3);
    validation = blobs.sample(spark, 100, 43, 2);
  }

  /** 2 x 2 x 2 = 8 combinations; the learning rate, l2 and batch norm stay the base's. */
  private static SearchSpace eight() {
    return new SearchSpace(
        List.of(List.of(8), List.of(16, 8)),
        List.of(0.0, 0.5),
        List.of(),
        List.of(),
        List.of(),
        List.of("adam", "sgd"));
  }

  private static HeadParams params(List<Integer> hidden, double dropout, String optimizer) {
    HeadConfig base = HeadTrainerTest.fast();
    return new HeadParams(hidden, dropout, base.learningRate(), base.l2(), base.batchNorm(), optimizer);
  }

  @Test
  void theGridRunsCombinationsInOrderWithTheLastValueVaryingFastest() {
    HeadConfig base = HeadTrainerTest.fast();
    assertThat(eight().size()).isEqualTo(8);
    assertThat(new HeadSearch(eight(), HeadSearch.Strategy.GRID, 3, 1).candidates(base))
        .containsExactly(
            params(List.of(8), 0.0, "adam"),
            params(List.of(8), 0.0, "sgd"),
            params(List.of(8), 0.5, "adam"));
    List<HeadParams> all = new HeadSearch(eight(), HeadSearch.Strategy.GRID, 100, 1).candidates(base);
    assertThat(all).hasSize(8).doesNotHaveDuplicates();
    assertThat(all.get(7)).isEqualTo(params(List.of(16, 8), 0.5, "sgd"));
    // An empty space is the base configuration alone.
    assertThat(new HeadSearch(SearchSpace.empty(), HeadSearch.Strategy.RANDOM, 5, 1).candidates(base))
        .containsExactly(HeadParams.of(base));
  }

  @Test
  void randomDrawsAreSeededDistinctAndAtMostTheGrid() {
    HeadConfig base = HeadTrainerTest.fast();
    List<HeadParams> a = new HeadSearch(eight(), HeadSearch.Strategy.RANDOM, 5, 7).candidates(base);
    List<HeadParams> b = new HeadSearch(eight(), HeadSearch.Strategy.RANDOM, 5, 7).candidates(base);
    List<HeadParams> other = new HeadSearch(eight(), HeadSearch.Strategy.RANDOM, 5, 8).candidates(base);
    assertThat(a).hasSize(5).doesNotHaveDuplicates().isEqualTo(b).isNotEqualTo(other);
    List<HeadParams> grid = new HeadSearch(eight(), HeadSearch.Strategy.GRID, 8, 7).candidates(base);
    assertThat(grid).containsAll(a);
    // More trials than combinations: each combination once, in a seeded order.
    List<HeadParams> every = new HeadSearch(eight(), HeadSearch.Strategy.RANDOM, 50, 7).candidates(base);
    assertThat(every).hasSize(8).containsExactlyInAnyOrderElementsOf(grid).isNotEqualTo(grid);
    assertThat(every.subList(0, 5)).isEqualTo(a);
  }

  @Test
  void rejectsBadSearchesBeforeTraining(JavaSparkContext sc) {
    assertThatThrownBy(() -> new HeadSearch(eight(), HeadSearch.Strategy.GRID, 0, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("trials must be >= 1 but was 0");
    assertThatThrownBy(
            () -> new SearchSpace(List.of(), List.of(0.3, 0.3), List.of(), List.of(), List.of(), List.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("The dropout values of a search must be distinct but were [0.3, 0.3]");
    assertThat(HeadSearch.Strategy.parse("Random")).isEqualTo(HeadSearch.Strategy.RANDOM);
    assertThatThrownBy(() -> HeadSearch.Strategy.parse("bayes"))
        .hasMessage("strategy must be grid or random but was bayes");

    HeadSearch search = new HeadSearch(eight(), HeadSearch.Strategy.GRID, 2, 1);
    HeadConfig base = HeadTrainerTest.fast().withEpochs(1);
    String noValidation =
        "The head search compares trials by validation loss and needs validation rows, but the"
            + " validation set is empty or missing.";
    assertThatThrownBy(() -> search.fit(sc, train, null, 2, base)).hasMessage(noValidation);
    assertThatThrownBy(() -> search.fit(sc, train, validation.limit(0), 2, base))
        .hasMessage(noValidation);
    // A trial value the head rejects fails the search before any trial trains.
    SearchSpace lowRate =
        new SearchSpace(List.of(), List.of(), List.of(0.01, 1e-6), List.of(), List.of(), List.of());
    HeadConfig floor = base.withReduceLr(2, 0.5, 1e-5);
    assertThatThrownBy(
            () -> new HeadSearch(lowRate, HeadSearch.Strategy.GRID, 2, 1).fit(sc, train, validation, 2, floor))
        .hasMessageStartingWith("Trial 1 {hidden_units=[16], dropout=0.2, learning_rate=1.0E-6,")
        .hasMessageEndingWith(
            "is not a valid head: minLearningRate must be in [0, learningRate] = [0, 1.0E-6] but"
                + " was 1.0E-5");
  }

  @Test
  void recordsEveryTrialAndKeepsTheLowestValidationLoss(JavaSparkContext sc, SparkSession spark) {
    // Count how often Spark computes each input: a search must read them as often as one fit.
    LongAccumulator reads = sc.sc().longAccumulator();
    MapFunction<Row, Row> count =
        r -> {
          reads.add(1);
          return r;
        };
    Dataset<Row> countedTrain = train.map(count, Encoders.row(train.schema()));
    Dataset<Row> countedValidation = validation.map(count, Encoders.row(validation.schema()));
    HeadConfig base = HeadTrainerTest.fast().withEpochs(3);
    HeadTrainer.fit(sc, countedTrain, countedValidation, 2, base.withEpochs(1));
    long readsByOneFit = reads.value();
    reads.reset();

    // Two rates far apart and batch norm on/off; 3 of the 4 combinations.
    SearchSpace space =
        new SearchSpace(
            List.of(), List.of(), List.of(0.05, 0.0003), List.of(), List.of(false, true), List.of());
    HeadSearch search = new HeadSearch(space, HeadSearch.Strategy.RANDOM, 3, 5);
    HeadSearch.Result result = search.fit(sc, countedTrain, countedValidation, 2, base);
    assertThat(reads.value()).isEqualTo(readsByOneFit);

    List<HeadSearch.Trial> trials = result.trials();
    assertThat(trials).hasSize(3);
    assertThat(trials).extracting(HeadSearch.Trial::number).containsExactly(0, 1, 2);
    assertThat(trials).extracting(HeadSearch.Trial::params).isEqualTo(search.candidates(base));
    for (HeadSearch.Trial t : trials) {
      assertThat(t.epochsRun()).isEqualTo(3);
      assertThat(t.bestEpoch()).isBetween(0, 2);
      assertThat(t.valLoss()).isPositive();
      assertThat(t.seconds()).isPositive();
    }
    // The winner has the lowest val_loss, and clearly: the slow rate trails.
    double min = trials.stream().mapToDouble(HeadSearch.Trial::valLoss).min().getAsDouble();
    assertThat(result.bestTrial().valLoss()).isEqualTo(min);
    assertThat(result.bestTrial().params().learningRate()).isEqualTo(0.05);
    // (Seed 5 draws it second, so picking the first trial would fail here.)
    assertThat(result.best()).isEqualTo(1);
    assertThat(
            trials.stream()
                .filter(t -> t.params().learningRate() == 0.0003)
                .mapToDouble(HeadSearch.Trial::valLoss)
                .min()
                .getAsDouble())
        .isGreaterThan(2 * min);
    assertThat(new HashSet<>(trials.stream().map(HeadSearch.Trial::valLoss).toList())).hasSize(3);

    // The returned head is the winner's, at its best epoch.
    HeadSearch.Trial best = result.bestTrial();
    assertThat(result.bestConfig()).isEqualTo(best.params().applyTo(base));
    assertThat(result.bestHead().bestEpoch()).isEqualTo(best.bestEpoch());
    double scored =
        ClassificationMetrics.fromPredictions(
                HeadScorer.score(validation, result.bestHead().network(), AB, 64), AB)
            .loss();
    assertThat(scored).isCloseTo(best.valLoss(), within(1e-6));
    assertThat(best.valAccuracy()).isGreaterThanOrEqualTo(0.95);

    // The table: a header and one row per trial, 14 columns.
    String[] lines = result.toCsv().split("\n");
    assertThat(lines[0]).isEqualTo(HeadSearch.CSV_HEADER);
    assertThat(lines[0].split(",")).hasSize(14);
    assertThat(lines).hasSize(4);
    for (int i = 0; i < 3; i++) {
      HeadSearch.Trial t = trials.get(i);
      String[] f = lines[i + 1].split(",");
      assertThat(f).hasSize(14);
      assertThat(f[0]).isEqualTo(String.valueOf(i));
      assertThat(f[1]).isEqualTo("\"[16]\"");
      assertThat(Double.parseDouble(f[3])).isEqualTo(t.params().learningRate());
      assertThat(f[5]).isEqualTo(String.valueOf(t.params().batchNorm()));
      assertThat(f[6]).isEqualTo("adam");
      assertThat(Integer.parseInt(f[7])).isEqualTo(3);
      assertThat(Double.parseDouble(f[9])).isCloseTo(t.valLoss(), within(1e-5 * t.valLoss()));
    }

    // The JSON form: summary, then every trial.
    Map<String, Object> json = Json.parseObject(result.toJson(), "trials.json");
    assertThat(json)
        .containsEntry("strategy", "random")
        .containsEntry("metric", "val_loss")
        .containsEntry("trials_run", 3)
        .containsEntry("best_trial", result.best())
        .containsEntry("best_val_loss", best.valLoss());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> rows = (List<Map<String, Object>>) json.get("trials");
    assertThat(rows).hasSize(3);
    assertThat(rows.get(result.best()))
        .containsEntry("trial", result.best())
        .containsEntry("learning_rate", 0.05)
        .containsEntry("hidden_units", List.of(16))
        .containsEntry("optimizer", "adam")
        .containsEntry("epochs_run", 3)
        .containsEntry("val_loss", best.valLoss())
        .containsEntry("val_accuracy", best.valAccuracy());
  }
}
