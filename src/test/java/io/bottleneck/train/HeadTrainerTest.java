package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.io.Columns;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;

@ExtendWith(LocalSpark.class)
class HeadTrainerTest {
  private static final int DIMS = 16;

  /** What the workers saw: one entry per mini-batch (local mode shares this JVM). */
  static final Queue<long[]> BATCHES = new ConcurrentLinkedQueue<>();

  /** Records each worker mini-batch's size and the learning rate of the worker's network. */
  static final class Recorder implements TrainingHook {
    @Override
    public void preUpdate(DataSet minibatch, Model model) {
      double lr = ((MultiLayerNetwork) model).getLearningRate(0);
      BATCHES.add(new long[] {minibatch.numExamples(), Double.doubleToLongBits(lr)});
    }

    @Override
    public void postUpdate(DataSet minibatch, Model model) {}

    @Override
    public void preUpdate(MultiDataSet minibatch, Model model) {}

    @Override
    public void postUpdate(MultiDataSet minibatch, Model model) {}
  }

  private static Dataset<Row> train2;
  private static Dataset<Row> validation2;

  /** Small, fast settings: 16 hidden units, batches of 16, averaging every 2 batches. */
  static HeadConfig fast() {
    return HeadConfig.defaults()
        .withHiddenUnits(List.of(16))
        .withDropout(0.2)
        .withLearningRate(0.01)
        .withBatchSizePerWorker(16)
        .withAveragingFrequency(2)
        .withSeed(11);
  }

  @BeforeAll
  static void data() {
    SparkSession spark = LocalSpark.session();
    Blobs blobs = new Blobs(2, DIMS, 1.0, 1.0, 1);
    train2 = blobs.sample(spark, 300, 2, 3);
    validation2 = blobs.sample(spark, 100, 3, 2);
  }

  private static double lossOf(MultiLayerNetwork net, Dataset<Row> data, List<String> classes) {
    return ClassificationMetrics.fromPredictions(HeadScorer.score(data, net, classes, 64), classes)
        .loss();
  }

  @Test
  void learnsTwoBlobsUsingEveryRowOncePerEpoch(JavaSparkContext sc) {
    BATCHES.clear();
    HeadConfig config = fast().withEpochs(5);
    TrainedHead trained =
        HeadTrainer.fit(sc, train2, validation2, 2, config, List.of(new Recorder()));

    List<EpochStats> h = trained.history();
    assertThat(h).hasSize(5);
    assertThat(h).extracting(EpochStats::epoch).containsExactly(0, 1, 2, 3, 4);
    assertThat(h.get(4).validationAccuracy()).isGreaterThanOrEqualTo(0.95);
    assertThat(h.get(4).trainAccuracy()).isGreaterThanOrEqualTo(0.95);
    assertThat(h.get(4).trainLoss()).isLessThan(h.get(0).trainLoss());
    assertThat(trained.stoppedEarly()).isFalse();
    assertThat(h).extracting(EpochStats::learningRate).containsOnly(0.01);

    // 300 rows per epoch in batches of 16: 18 full batches and one of 12, every epoch.
    List<Long> sizes = new ArrayList<>();
    BATCHES.forEach(b -> sizes.add(b[0]));
    assertThat(sizes.stream().mapToLong(Long::longValue).sum()).isEqualTo(5 * 300);
    assertThat(sizes.stream().filter(s -> s == 16)).hasSize(5 * 18);
    assertThat(sizes.stream().filter(s -> s == 12)).hasSize(5);

    // The reported validation loss is the evaluate stage's loss of the same weights.
    int best = trained.bestEpoch();
    assertThat(h.get(best).validationLoss())
        .isEqualTo(h.stream().mapToDouble(EpochStats::validationLoss).min().getAsDouble());
    assertThat(lossOf(trained.network(), validation2, List.of("a", "b")))
        .isCloseTo(h.get(best).validationLoss(), within(1e-6));
  }

  /**
   * Classes of the values of broadcasts {@code (from, to)} that the driver's block manager still
   * holds, but Spark's own task binaries (byte arrays, released when their stage is collected).
   */
  private static List<String> heldBroadcastValues(long from, long to) {
    org.apache.spark.storage.BlockManager blocks = org.apache.spark.SparkEnv.get().blockManager();
    List<String> held = new ArrayList<>();
    scala.collection.Iterator<org.apache.spark.storage.BlockId> ids =
        blocks.getMatchingBlockIds(b -> b.isBroadcast()).iterator();
    while (ids.hasNext()) {
      org.apache.spark.storage.BroadcastBlockId id = (org.apache.spark.storage.BroadcastBlockId) ids.next();
      if (id.broadcastId() > from && id.broadcastId() < to && id.field().isEmpty()) {
        scala.Option<org.apache.spark.storage.BlockResult> value = blocks.getLocalValues(id);
        String type = value.isDefined() ? value.get().data().next().getClass().getName() : "?";
        if (!type.equals(byte[].class.getName())) {
          held.add(id.broadcastId() + ": " + type);
        }
      }
    }
    return held;
  }

  @Test
  void everyAveragingRoundReleasesItsBroadcast(JavaSparkContext sc) {
    long before = sc.broadcast(0).id();
    // 300 rows, 2 workers x 2 batches of 16 per round: 5 rounds per epoch, a broadcast each
    HeadTrainer.fit(sc, train2, validation2, 2, fast().withEpochs(2));
    long after = sc.broadcast(0).id();
    assertThat(after - before).as("broadcasts made while training").isGreaterThan(10);
    assertThat(heldBroadcastValues(before, after)).as("broadcast values left on the driver by training").isEmpty();
  }

  @Test
  void learnsThreeBlobsWithoutValidationData(JavaSparkContext sc, SparkSession spark) {
    Blobs blobs = new Blobs(3, DIMS, 1.5, 1.0, 21);
    Dataset<Row> train = blobs.sample(spark, 300, 22, 2);
    Dataset<Row> heldOut = blobs.sample(spark, 150, 23, 2);
    TrainedHead trained =
        HeadTrainer.fit(sc, train, null, 3, fast().withLearningRate(0.02).withEpochs(5));

    assertThat(trained.history()).hasSize(5);
    assertThat(trained.bestEpoch()).isEqualTo(4);
    assertThat(trained.stoppedEarly()).isFalse();
    assertThat(trained.history().get(4).validationLoss()).isNaN();
    assertThat(trained.history().get(4).validationAccuracy()).isNaN();
    List<String> classes = List.of("a", "b", "c");
    ClassificationMetrics m =
        ClassificationMetrics.fromPredictions(
            HeadScorer.score(heldOut, trained.network(), classes, 64), classes);
    assertThat(m.accuracy()).isGreaterThanOrEqualTo(0.95);
    // Without validation the network is the last epoch's: same loss on the training set.
    assertThat(lossOf(trained.network(), train, classes))
        .isCloseTo(trained.history().get(4).trainLoss(), within(1e-6));
    // An empty validation set is the same as none.
    TrainedHead again =
        HeadTrainer.fit(sc, train, train.limit(0), 3, fast().withEpochs(1));
    assertThat(again.history().get(0).validationLoss()).isNaN();
  }

  @Test
  void theSeedMakesTrainingReproducibleDropoutIncluded(JavaSparkContext sc) {
    HeadConfig config = fast().withDropout(0.5).withEpochs(2);
    List<EpochStats> a = HeadTrainer.fit(sc, train2, validation2, 2, config).history();
    List<EpochStats> b = HeadTrainer.fit(sc, train2, validation2, 2, config).history();
    List<EpochStats> other =
        HeadTrainer.fit(sc, train2, validation2, 2, config.withSeed(12)).history();
    for (int e = 0; e < 2; e++) {
      // Not bit-exact: Spark sums the workers' parameters in task completion order.
      assertThat(b.get(e).trainLoss()).isCloseTo(a.get(e).trainLoss(), within(1e-5));
      assertThat(b.get(e).validationLoss()).isCloseTo(a.get(e).validationLoss(), within(1e-5));
    }
    assertThat(Math.abs(other.get(1).trainLoss() - a.get(1).trainLoss())).isGreaterThan(1e-4);
  }

  @Test
  void stopsEarlyOnAPlateauAndRestoresTheBestWeights(JavaSparkContext sc) {
    // Easy data and a large min delta: after a few epochs no epoch improves by 0.05.
    HeadConfig config =
        fast().withLearningRate(0.05).withEpochs(30).withEarlyStopping(2, 0.05, true)
            .withReduceLr(100, 0.5, 0);
    TrainedHead trained = HeadTrainer.fit(sc, train2, validation2, 2, config);

    List<EpochStats> h = trained.history();
    int best = trained.bestEpoch();
    assertThat(trained.stoppedEarly()).isTrue();
    assertThat(h.size()).isLessThan(30).isEqualTo(best + 2 + 1);
    double restored = lossOf(trained.network(), validation2, List.of("a", "b"));
    assertThat(restored).isCloseTo(h.get(best).validationLoss(), within(1e-6));
    // The last epoch's weights were different: restoring changed the network.
    assertThat(Math.abs(h.get(h.size() - 1).validationLoss() - h.get(best).validationLoss()))
        .isGreaterThan(1e-6);
  }

  @Test
  void reducesTheLearningRateOnPlateausAndTheWorkersUseIt(JavaSparkContext sc) {
    BATCHES.clear();
    HeadConfig config =
        fast().withEpochs(6).withEarlyStopping(100, 0.05, true).withReduceLr(1, 0.5, 0.0025);
    TrainedHead trained =
        HeadTrainer.fit(sc, train2, validation2, 2, config, List.of(new Recorder()));
    List<EpochStats> h = trained.history();
    assertThat(h).hasSize(6);

    // The rule, replayed on the reported losses: lr halves after each epoch that does not
    // improve the best val_loss by 0.05, never below 0.0025.
    double best = Double.POSITIVE_INFINITY;
    double lr = 0.01;
    List<Double> expected = new ArrayList<>();
    for (EpochStats e : h) {
      expected.add(lr);
      if (e.validationLoss() < best - 0.05) {
        best = e.validationLoss();
      } else {
        lr = Math.max(lr * 0.5, 0.0025);
      }
    }
    assertThat(h).extracting(EpochStats::learningRate).containsExactlyElementsOf(expected);
    assertThat(expected.get(5)).isLessThan(0.01);

    // What the worker networks were built with, in training order: each epoch's rate, 19
    // mini-batches per epoch.
    List<Double> workerRates = new ArrayList<>();
    BATCHES.forEach(b -> workerRates.add(Double.longBitsToDouble(b[1])));
    List<Double> perBatch = new ArrayList<>();
    for (double r : expected) {
      for (int i = 0; i < 19; i++) {
        perBatch.add(r);
      }
    }
    assertThat(workerRates).containsExactlyElementsOf(perBatch);
    assertThat(EpochLoop.configuredLearningRate(trained.network())).isEqualTo(lr);
  }

  @Test
  void aLearningRateSetOnTheDriverGovernsTheWorkersUpdates(JavaSparkContext sc) {
    HeadConfig config = fast();
    MultiLayerNetwork net = HeadNetwork.build(DIMS, 2, config);
    ParameterAveragingTrainingMaster master =
        RoundTrainingMaster.forHead(sc.defaultParallelism(), config, List.of());
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
    JavaRDD<Example> examples = Example.fromRows(train2).cache();
    long rows = examples.count();
    int workers = sc.defaultParallelism();

    double[] change = new double[3];
    double[] rates = {0.01, 1e-9, 0.01};
    for (int round = 0; round < rates.length; round++) {
      EpochLoop.setLearningRate(net, rates[round]);
      INDArray before = net.params().dup();
      JavaRDD<org.nd4j.linalg.dataset.DataSet> batches =
          EpochLayout.of(rows, config).batches(examples, config.seed() + round, DIMS, 2);
      master.executeTraining(sparkNet, PartitionRange.of(batches, 0, workers));
      change[round] = net.params().sub(before).amaxNumber().doubleValue();
    }
    examples.unpersist();
    // saveUpdater(true): the workers' Adam moments come back averaged instead of staying zero.
    assertThat(net.getUpdater().getStateViewArray().amaxNumber().doubleValue()).isGreaterThan(0);
    assertThat(master.isSaveUpdater()).isTrue();
    // Adam moves a weight by about lr per step; each worker takes 2 steps before averaging.
    assertThat(change[0]).isGreaterThan(1e-3);
    assertThat(change[1]).isLessThan(1e-6);
    assertThat(change[2]).isGreaterThan(1e-3);
  }

  @Test
  void dropoutIsTheDroppedFractionAndBecomesDl4jsRetainProbability() {
    MultiLayerNetwork net = HeadNetwork.build(DIMS, 3, fast().withHiddenUnits(List.of(8, 4)));
    // Dense, Dropout, Dense, Dropout, Output.
    assertThat(net.getnLayers()).isEqualTo(5);
    DropoutLayer dropout = (DropoutLayer) net.getLayerWiseConfigurations().getConf(1).getLayer();
    assertThat(((Dropout) dropout.getIDropout()).getP()).isEqualTo(0.8);
    assertThat(net.layerInputSize(0)).isEqualTo(DIMS);
    assertThat(net.layerSize(4)).isEqualTo(3);
    assertThat(HeadNetwork.build(DIMS, 3, fast().withDropout(0)).getnLayers()).isEqualTo(2);
    assertThat(EpochLoop.configuredLearningRate(net)).isEqualTo(0.01);
  }

  @Test
  void logsOneKerasLikeLinePerEpoch() {
    EpochStats s = new EpochStats(2, 0.21344, 0.915, 0.17121, 0.935, 1e-3);
    assertThat(EpochLoop.formatEpoch(s, 30, 4.23))
        .isEqualTo(
            "Epoch 3/30 - loss: 0.2134 - accuracy: 0.9150 - val_loss: 0.1712"
                + " - val_accuracy: 0.9350 - lr: 1.0e-03 - 4.2s");
    EpochStats noValidation = new EpochStats(0, 0.5, 0.75, Double.NaN, Double.NaN, 5e-4);
    assertThat(EpochLoop.formatEpoch(noValidation, 1, 0.04))
        .isEqualTo("Epoch 1/1 - loss: 0.5000 - accuracy: 0.7500 - lr: 5.0e-04 - 0.0s");
  }

  @Test
  void checksSchemasAndInputsBeforeTraining(JavaSparkContext sc) {
    HeadConfig c = fast().withEpochs(1);
    Dataset<Row> strings = train2.withColumn(Columns.FEATURES, functions.lit("x"));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, strings, validation2, 2, c))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column features must be of type array<float> but was actually string.");
    Dataset<Row> longLabels =
        validation2.withColumn(Columns.LABEL_INDEX, functions.col(Columns.LABEL_INDEX).cast("long"));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2, longLabels, 2, c))
        .hasMessage("Column label_index must be of type int but was actually bigint.");
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2.drop(Columns.LABEL_INDEX), null, 2, c))
        .hasMessageStartingWith("Column label_index of type int is required but missing");
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2, validation2, 1, c))
        .hasMessage("numClasses must be >= 2 but was 1");
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2.limit(0), validation2, 2, c))
        .hasMessage(
            "The training set is empty: the head needs at least one row with features and"
                + " label_index.");
    Dataset<Row> tooManyClasses =
        train2.withColumn(Columns.LABEL_INDEX, functions.col(Columns.LABEL_INDEX).plus(1));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, tooManyClasses, null, 2, c))
        .hasMessage(
            "Column label_index must be in [0, 2) for 2 classes but ranges from 1 to 2 in the"
                + " training set.");
    Dataset<Row> shorter =
        validation2.withColumn(
            Columns.FEATURES, functions.slice(functions.col(Columns.FEATURES), 1, DIMS - 1));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2, shorter, 2, c))
        .hasMessage("Column features has length 15 in the validation set but 16 in the training set.");
    Dataset<Row> ragged =
        train2.withColumn(
            Columns.FEATURES,
            functions.when(
                    functions.col(Columns.LABEL_INDEX).equalTo(0),
                    functions.slice(functions.col(Columns.FEATURES), 1, 3))
                .otherwise(functions.col(Columns.FEATURES)));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, ragged, null, 2, c))
        .hasMessage(
            "Column features must hold vectors of one length, but lengths range from 3 to 16 in"
                + " the training set.");
    Dataset<Row> withNaN =
        train2.withColumn(
            Columns.FEATURES,
            functions.when(
                    functions.col(Columns.LABEL_INDEX).equalTo(0),
                    functions.concat(
                        functions.slice(functions.col(Columns.FEATURES), 1, DIMS - 1),
                        functions.array(functions.lit(Float.NaN))))
                .otherwise(functions.col(Columns.FEATURES)));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, withNaN, null, 2, c))
        .hasMessage(
            "Column features has 150 vectors with null or NaN elements in the training set.");
    Dataset<Row> nullFeatures =
        validation2.withColumn(
            Columns.FEATURES,
            functions.when(functions.col(Columns.LABEL_INDEX).equalTo(1), functions.lit(null))
                .otherwise(functions.col(Columns.FEATURES)));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2, nullFeatures, 2, c))
        .hasMessage("Column features has 50 null values in the validation set.");
    Dataset<Row> nullLabels =
        train2.withColumn(
            Columns.LABEL_INDEX,
            functions.when(functions.col(Columns.LABEL_INDEX).equalTo(1), functions.lit(null))
                .otherwise(functions.col(Columns.LABEL_INDEX)));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, nullLabels, validation2, 2, c))
        .hasMessage("Column label_index has 150 null values in the training set.");
    Dataset<Row> nullElement =
        train2.withColumn(
            Columns.FEATURES,
            functions.when(
                    functions.col(Columns.LABEL_INDEX).equalTo(1),
                    functions.concat(
                        functions.slice(functions.col(Columns.FEATURES), 1, DIMS - 1),
                        functions.array(functions.lit(null).cast("float"))))
                .otherwise(functions.col(Columns.FEATURES)));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, nullElement, null, 2, c))
        .hasMessage(
            "Column features has 150 vectors with null or NaN elements in the training set.");
  }
}
