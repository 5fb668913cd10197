package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;

/** The per-epoch machinery of {@link HeadTrainer}: layout, rounds, metrics, thread settings. */
@ExtendWith(LocalSpark.class)
class EpochTrainingTest {
  private static final int DIMS = 16;

  private static Dataset<Row> train;
  private static Dataset<Row> validation;

  @BeforeAll
  static void data() {
    SparkSession spark = LocalSpark.session();
    Blobs blobs = new Blobs(2, DIMS, 1.0, 1.0, 5);
    train = blobs.sample(spark, 300, 6, 3);
    validation = blobs.sample(spark, 100, 7, 2);
  }

  @Test
  void theLayoutPutsEveryRowOnceAtItsPermutedPosition(JavaSparkContext sc) {
    JavaRDD<Example> examples = Example.fromRows(train).cache();
    try {
      long rows = examples.count();
      Map<Long, Example> byIndex = new HashMap<>();
      for (Example e : examples.collect()) {
        byIndex.put(e.index, e);
      }
      // 300 rows, 32 per partition: 9 partitions of 32 and one of 12; batches of 16.
      EpochLayout layout = new EpochLayout(rows, 16, 2);
      assertThat(layout.partitions()).isEqualTo(10);
      assertThat(layout.rowsIn(0)).isEqualTo(32);
      assertThat(layout.rowsIn(9)).isEqualTo(12);
      assertThat(layout.dataSetsIn(0, 4)).isEqualTo(8);
      assertThat(layout.dataSetsIn(8, 12)).isEqualTo(3);

      long seed = 99;
      List<Tuple2<Integer, List<DataSet>>> partitions =
          layout.batches(examples, seed, DIMS, 2)
              .mapPartitionsWithIndex(
                  (p, it) -> {
                    List<DataSet> sets = new ArrayList<>();
                    it.forEachRemaining(sets::add);
                    return List.of(new Tuple2<>(p, sets)).iterator();
                  },
                  true)
              .collect();
      IndexPermutation permutation = new IndexPermutation(rows, seed);
      // Position q of the permutation holds the row whose index maps to q.
      Map<Long, Example> atPosition = new HashMap<>();
      byIndex.forEach((index, e) -> atPosition.put(permutation.apply(index), e));

      int seen = 0;
      for (Tuple2<Integer, List<DataSet>> part : partitions) {
        int p = part._1();
        assertThat((long) part._2().size()).isEqualTo(layout.dataSetsIn(p, p + 1));
        int offset = 0;
        for (DataSet batch : part._2()) {
          assertThat(batch.numExamples()).isEqualTo(Math.min(16, layout.rowsIn(p) - offset));
          float[][] x = batch.getFeatures().toFloatMatrix();
          float[][] y = batch.getLabels().toFloatMatrix();
          for (int r = 0; r < x.length; r++) {
            Example expected = atPosition.get(p * 32L + offset + r);
            assertThat(x[r]).containsExactly(expected.features);
            assertThat(y[r][expected.label]).isEqualTo(1f);
            assertThat(y[r][1 - expected.label]).isEqualTo(0f);
            seen++;
          }
          offset += x.length;
        }
        assertThat(offset).isEqualTo(layout.rowsIn(p));
      }
      assertThat(seen).isEqualTo(300);
    } finally {
      examples.unpersist();
    }
  }

  @Test
  void anEpochIsOneSparkJobPerAveragingRoundPlusOneForAllMetrics(JavaSparkContext sc)
      throws java.util.concurrent.TimeoutException {
    AtomicInteger jobs = new AtomicInteger();
    SparkListener counter =
        new SparkListener() {
          @Override
          public void onJobStart(SparkListenerJobStart jobStart) {
            jobs.incrementAndGet();
          }
        };
    sc.sc().addSparkListener(counter);
    try {
      HeadConfig config = HeadTrainerTest.fast().withEarlyStopping(100, 0.001, true).withReduceLr(100, 0.5, 0);
      int before = jobs.get();
      HeadTrainer.fit(sc, train, validation, 2, config.withEpochs(1));
      sc.sc().listenerBus().waitUntilEmpty();
      int oneEpoch = jobs.get() - before;
      before = jobs.get();
      HeadTrainer.fit(sc, train, validation, 2, config.withEpochs(3));
      sc.sc().listenerBus().waitUntilEmpty();
      int threeEpochs = jobs.get() - before;
      // 300 rows in 10 partitions of 2 batches, 4 workers: 3 rounds, then one job for the
      // training and validation metrics together. (It was 2 jobs per round and 2 for metrics.)
      int workers = sc.defaultParallelism();
      int rounds = (10 + workers - 1) / workers;
      assertThat((threeEpochs - oneEpoch) / 2.0).isEqualTo(rounds + 1);
    } finally {
      sc.sc().removeSparkListener(counter);
    }
  }

  @Test
  void epochMetricsAreTheEvaluateStagesLossAndAccuracyOnBothSetsInOneJob(JavaSparkContext sc) {
    MultiLayerNetwork net = HeadNetwork.build(DIMS, 2, HeadTrainerTest.fast());
    JavaRDD<Example> trainExamples = Example.fromRows(train).cache();
    JavaRDD<Example> validationExamples = Example.fromRows(validation).cache();
    List<String> classes = List.of("a", "b");
    try (EpochMetrics metrics = new EpochMetrics(sc, trainExamples, validationExamples, net)) {
      EpochMetrics.Totals first = metrics.of(net);
      int idleAfterFirst = EpochMetrics.ExecutorHeads.idle(metrics.architectureId());
      // New parameters, same networks: they are loaded, not rebuilt.
      net.setParams(net.params().mul(0.5));
      EpochMetrics.Totals second = metrics.of(net);

      {
        EpochMetrics.Totals t = second;
        ClassificationMetrics onTrain =
            ClassificationMetrics.fromPredictions(HeadScorer.score(train, net, classes, 64), classes);
        ClassificationMetrics onValidation =
            ClassificationMetrics.fromPredictions(
                HeadScorer.score(validation, net, classes, 64), classes);
        assertThat(t.train()[2]).isEqualTo(300);
        assertThat(t.validation()[2]).isEqualTo(100);
        assertThat(t.train()[0] / t.train()[2]).isCloseTo(onTrain.loss(), within(1e-6));
        assertThat(t.train()[1] / t.train()[2]).isCloseTo(onTrain.accuracy(), within(1e-9));
        assertThat(t.validation()[0] / t.validation()[2]).isCloseTo(onValidation.loss(), within(1e-6));
        assertThat(t.validation()[1] / t.validation()[2])
            .isCloseTo(onValidation.accuracy(), within(1e-9));
      }
      assertThat(second.train()[0]).isNotEqualTo(first.train()[0]);
      // local[2] runs at most two tasks at once, so reused networks never number more than two
      // (the two jobs' 10 tasks would leave up to 10 if each built its own). Whether the first
      // job's two tasks overlapped is up to the scheduler, so the second may add one.
      assertThat(idleAfterFirst).isBetween(1, 2);
      assertThat(EpochMetrics.ExecutorHeads.idle(metrics.architectureId()))
          .isBetween(idleAfterFirst, 2);
      // Without validation rows there are no validation totals.
      try (EpochMetrics trainOnly = new EpochMetrics(sc, trainExamples, null, net)) {
        EpochMetrics.Totals t = trainOnly.of(net);
        assertThat(t.validation()).isNull();
        // The same sums, up to the order Spark adds the partitions' totals in.
        assertThat(t.train()).containsExactly(second.train(), within(1e-9));
      }
    } finally {
      trainExamples.unpersist();
      validationExamples.unpersist();
    }
  }

  @Test
  void aRoundMustHoldData(JavaSparkContext sc) {
    RoundTrainingMaster master = RoundTrainingMaster.forHead(2, HeadTrainerTest.fast(), List.of());
    assertThatThrownBy(() -> master.executeRound(null, sc.emptyRDD(), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A round needs at least one DataSet but was given 0");
  }

  @Test
  void theDropoutSeedMixesEveryFeatureInRowMajorOrderWhateverTheArraysLayout() {
    DropoutSeeder seeder = new DropoutSeeder(42);
    float[][] values = new float[3][5];
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 5; c++) {
        values[r][c] = r * 10 + c + 0.25f;
      }
    }
    long expected = IndexPermutation.mix(42);
    for (float[] row : values) {
      for (float v : row) {
        expected = IndexPermutation.mix(expected ^ Float.floatToIntBits(v));
      }
    }
    INDArray c = Nd4j.createFromArray(values);
    INDArray f = c.dup('f');
    INDArray view = Nd4j.createFromArray(new float[6][7]).get(
        org.nd4j.linalg.indexing.NDArrayIndex.interval(1, 4),
        org.nd4j.linalg.indexing.NDArrayIndex.interval(2, 7));
    view.assign(c);
    assertThat(seeder.contentSeed(c)).isEqualTo(expected);
    assertThat(seeder.contentSeed(f)).isEqualTo(expected);
    assertThat(seeder.contentSeed(view)).isEqualTo(expected);
    assertThat(new DropoutSeeder(43).contentSeed(c)).isNotEqualTo(expected);
    INDArray changed = c.dup();
    changed.putScalar(2, 4, 0f);
    assertThat(seeder.contentSeed(changed)).isNotEqualTo(expected);
    assertThat(c.dataType()).isEqualTo(DataType.FLOAT);
  }

  @Test
  void blasRunsSingleThreadedWhileHeldAndGetsItsThreadsBack() {
    int before = SingleThreadedBlas.currentThreads();
    try (SingleThreadedBlas outer = SingleThreadedBlas.open()) {
      assertThat(SingleThreadedBlas.currentThreads()).isEqualTo(1);
      try (SingleThreadedBlas inner = SingleThreadedBlas.open()) {
        assertThat(SingleThreadedBlas.currentThreads()).isEqualTo(1);
      }
      // The outer holder still holds it.
      assertThat(SingleThreadedBlas.currentThreads()).isEqualTo(1);
      outer.close();
      outer.close(); // closing twice releases once
    }
    assertThat(SingleThreadedBlas.currentThreads()).isEqualTo(before);
  }
}
