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
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;

/** Batch normalization, the optimizers and class weights of the head, trained for real. */
@ExtendWith(LocalSpark.class)
class HeadOptionsTest {
  private static final int DIMS = 16;
  private static final List<String> AB = List.of("a", "b");

  private static Dataset<Row> train2;
  private static Dataset<Row> validation2;

  @BeforeAll
  static void data() {
    SparkSession spark = LocalSpark.session();
    Blobs blobs = new Blobs(2, DIMS, 1.0, 1.0, 1);
    train2 = blobs.sample(spark, 300, 2, 3);
    validation2 = blobs.sample(spark, 100, 3, 2);
  }

  private static ClassificationMetrics metrics(MultiLayerNetwork net, Dataset<Row> data) {
    return ClassificationMetrics.fromPredictions(HeadScorer.score(data, net, AB, 64), AB);
  }

  private static INDArray features(Dataset<Row> data) {
    List<Row> rows = data.select(Columns.FEATURES).collectAsList();
    float[][] x = new float[rows.size()][];
    for (int i = 0; i < x.length; i++) {
      List<Float> values = rows.get(i).getList(0);
      x[i] = new float[values.size()];
      for (int d = 0; d < x[i].length; d++) {
        x[i][d] = values.get(d);
      }
    }
    return Nd4j.create(x).castTo(DataType.FLOAT);
  }

  @Test
  void batchNormTrainsAsWellAsThePlainHeadAndInferenceUsesItsRunningStatistics(
      JavaSparkContext sc) {
    HeadConfig plainConfig = HeadTrainerTest.fast().withEpochs(4);
    TrainedHead plain = HeadTrainer.fit(sc, train2, validation2, 2, plainConfig);
    TrainedHead bn = HeadTrainer.fit(sc, train2, validation2, 2, plainConfig.withBatchNorm(true));
    MultiLayerNetwork net = bn.network();

    // Dense (identity, no bias) -> BatchNorm -> ReLU -> Dropout -> softmax.
    assertThat(net.getnLayers()).isEqualTo(5);
    DenseLayer dense = (DenseLayer) net.getLayerWiseConfigurations().getConf(0).getLayer();
    assertThat(dense.getActivationFn()).isInstanceOf(ActivationIdentity.class);
    assertThat(dense.hasBias()).isFalse();
    assertThat(net.getLayerWiseConfigurations().getConf(1).getLayer())
        .isInstanceOf(BatchNormalization.class);
    ActivationLayer relu = (ActivationLayer) net.getLayerWiseConfigurations().getConf(2).getLayer();
    assertThat(relu.getActivationFn()).isInstanceOf(ActivationReLU.class);
    // 16 inputs x 16 units, no bias; gamma, beta, mean, log10 std; 16 x 2 + 2.
    assertThat(net.numParams()).isEqualTo(16 * 16 + 4 * 16 + 16 * 2 + 2);

    double plainAccuracy = plain.best().validationAccuracy();
    assertThat(plainAccuracy).isGreaterThanOrEqualTo(0.95);
    assertThat(bn.best().validationAccuracy()).isGreaterThanOrEqualTo(plainAccuracy - 0.02);

    // The running mean and standard deviation came back from the workers (averaged) instead of
    // staying at their initial 0 and 1: they are near the statistics of the Dense outputs over
    // the training rows, unit by unit.
    INDArray x = features(train2);
    INDArray dense0 = net.feedForwardToLayer(0, x, false).get(1);
    double[] dataMean = dense0.mean(0).toDoubleVector();
    double[] dataStd = dense0.std(0).toDoubleVector();
    double[] runningMean =
        net.getLayer(1).getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).toDoubleVector();
    double[] runningLog10Std =
        net.getLayer(1).getParam(BatchNormalizationParamInitializer.GLOBAL_LOG_STD).toDoubleVector();
    double meanOffInit = 0;
    double stdOffInit = 0;
    for (int u = 0; u < 16; u++) {
      assertThat(runningMean[u]).isCloseTo(dataMean[u], within(0.2 * dataStd[u]));
      assertThat(Math.pow(10, runningLog10Std[u])).isCloseTo(dataStd[u], within(0.2 * dataStd[u]));
      meanOffInit = Math.max(meanOffInit, Math.abs(dataMean[u]) / dataStd[u]);
      stdOffInit = Math.max(stdOffInit, Math.abs(dataStd[u] - 1));
    }
    // ... which the initial values are not.
    assertThat(meanOffInit).isGreaterThan(0.6);
    assertThat(stdOffInit).isGreaterThan(0.6);

    // Inference normalizes with the running statistics, not the batch's: a row scores the same
    // alone as among 299 others.
    INDArray all = net.output(x, false);
    for (int i : new int[] {0, 7, 150}) {
      INDArray alone = net.output(x.getRow(i, true), false);
      assertThat(alone.sub(all.getRow(i, true)).amaxNumber().doubleValue()).isLessThan(1e-5);
    }
    // The epoch metrics (EpochMetrics, on the executors) and the scorer (HeadScorer) agree on the
    // returned weights, running statistics included.
    assertThat(metrics(net, validation2).loss())
        .isCloseTo(bn.best().validationLoss(), within(1e-6));

    // The snapshot that executors restore carries every parameter, running statistics included.
    MultiLayerNetwork restored = HeadSnapshot.of(net).restore();
    assertThat(restored.params()).isEqualTo(net.params());
    assertThat(restored.output(x, false)).isEqualTo(all);
  }

  private static IUpdater expectedUpdater(String optimizer, double lr) {
    return switch (optimizer) {
      case "adam" -> new Adam(lr);
      case "nadam" -> new Nadam(lr);
      case "amsgrad" -> new AMSGrad(lr);
      case "sgd" -> new Sgd(lr);
      case "nesterov" -> new Nesterovs(lr, 0.9);
      case "rmsprop" -> new RmsProp(lr);
      default -> throw new IllegalArgumentException(optimizer);
    };
  }

  /** Epoch 0 improves, epoch 1 cannot improve by 10: epoch 2 runs at half the rate. */
  @ParameterizedTest
  @ValueSource(strings = {"adam", "nadam", "amsgrad", "sgd", "nesterov", "rmsprop"})
  void everyOptimizerLearnsAndHalvesItsRateOnAPlateau(String optimizer, JavaSparkContext sc) {
    HeadTrainerTest.BATCHES.clear();
    HeadConfig config =
        HeadTrainerTest.fast()
            .withOptimizer(optimizer)
            .withLearningRate(0.05)
            .withEpochs(3)
            .withEarlyStopping(100, 10.0, false)
            .withReduceLr(1, 0.5, 0);
    TrainedHead trained =
        HeadTrainer.fit(
            sc, train2, validation2, 2, config, List.of(new HeadTrainerTest.Recorder()));

    IUpdater updater =
        ((BaseLayer) trained.network().getLayerWiseConfigurations().getConf(0).getLayer())
            .getIUpdater();
    // Epoch 2 did not improve either: the rate after training is halved once more.
    assertThat(updater).isEqualTo(expectedUpdater(optimizer, 0.0125));
    assertThat(trained.history())
        .extracting(EpochStats::learningRate)
        .containsExactly(0.05, 0.05, 0.025);
    assertThat(EpochLoop.configuredLearningRate(trained.network())).isEqualTo(0.0125);
    // The worker networks trained with each epoch's rate: 19 mini-batches per epoch.
    List<Double> workerRates = new ArrayList<>();
    HeadTrainerTest.BATCHES.forEach(b -> workerRates.add(Double.longBitsToDouble(b[1])));
    List<Double> expected = new ArrayList<>();
    for (double r : new double[] {0.05, 0.05, 0.025}) {
      for (int i = 0; i < 19; i++) {
        expected.add(r);
      }
    }
    assertThat(workerRates).containsExactlyElementsOf(expected);
    assertThat(trained.history().get(2).validationAccuracy()).isGreaterThanOrEqualTo(0.95);
  }

  /**
   * The rate set on the driver is the one the workers' updaters apply, for every optimizer: a rate
   * of 1e-9 leaves the weights where they were, 0.05 moves them. After training, 1e-9 stops them
   * again, except with Nesterov momentum, whose velocity keeps moving the weights (as it should).
   */
  @ParameterizedTest
  @ValueSource(strings = {"adam", "nadam", "amsgrad", "sgd", "nesterov", "rmsprop"})
  void theDriversRateGovernsTheWorkersUpdatesForEveryOptimizer(String optimizer, JavaSparkContext sc) {
    HeadConfig config = HeadTrainerTest.fast().withDropout(0).withOptimizer(optimizer);
    MultiLayerNetwork net = HeadNetwork.build(DIMS, 2, config);
    int workers = sc.defaultParallelism();
    ParameterAveragingTrainingMaster master = RoundTrainingMaster.forHead(workers, config, List.of());
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
    JavaRDD<Example> examples = Example.fromRows(train2).cache();
    long rows = examples.count();
    double[] rates = {1e-9, 0.05, 1e-9};
    double[] change = new double[rates.length];
    for (int round = 0; round < rates.length; round++) {
      EpochLoop.setLearningRate(net, rates[round]);
      INDArray before = net.params().dup();
      JavaRDD<org.nd4j.linalg.dataset.DataSet> batches =
          EpochLayout.of(rows, config).batches(examples, config.seed() + round, DIMS, 2);
      master.executeTraining(sparkNet, PartitionRange.of(batches, 0, workers));
      change[round] = net.params().sub(before).amaxNumber().doubleValue();
    }
    examples.unpersist();
    assertThat(change[0]).isLessThan(1e-6);
    assertThat(change[1]).isGreaterThan(1e-3);
    if (!optimizer.equals("nesterov")) {
      assertThat(change[2]).isLessThan(1e-6);
    }
  }

  @Test
  void balancedClassWeightsRaiseTheMinorityRecall(JavaSparkContext sc, SparkSession spark) {
    // Overlapping classes, 90/10: the unweighted head mostly predicts the majority.
    Blobs blobs = new Blobs(2, 8, 0.3, 1.0, 31);
    Dataset<Row> train = blobs.sample(spark, new int[] {360, 40}, 32, 3);
    Dataset<Row> validation = blobs.sample(spark, new int[] {90, 10}, 33, 2);
    Dataset<Row> test = blobs.sample(spark, new int[] {300, 300}, 34, 2);
    HeadConfig none =
        HeadTrainerTest.fast()
            .withDropout(0)
            .withEpochs(6)
            .withEarlyStopping(100, 0, false);
    TrainedHead unweighted = HeadTrainer.fit(sc, train, validation, 2, none);
    TrainedHead balanced =
        HeadTrainer.fit(sc, train, validation, 2, none.withClassWeights(ClassWeights.BALANCED));

    assertThat(unweighted.classWeights()).isEmpty();
    // 400 / (2 * 360) and 400 / (2 * 40).
    assertThat(balanced.classWeights()).containsExactly(400.0 / 720, 5.0);
    double minorityRecallNone = metrics(unweighted.network(), test).perClass().get(1).recall();
    double minorityRecallBalanced = metrics(balanced.network(), test).perClass().get(1).recall();
    assertThat(minorityRecallBalanced).isGreaterThanOrEqualTo(minorityRecallNone + 0.4);

    // The reported losses are the unweighted cross-entropy of the returned (last) weights.
    List<EpochStats> h = balanced.history();
    assertThat(metrics(balanced.network(), validation).loss())
        .isCloseTo(h.get(h.size() - 1).validationLoss(), within(1e-6));
    assertThat(metrics(balanced.network(), train).loss())
        .isCloseTo(h.get(h.size() - 1).trainLoss(), within(1e-6));

    // The weighted loss is part of the configuration that snapshots carry.
    MultiLayerNetwork restored = HeadSnapshot.of(balanced.network()).restore();
    OutputLayer out =
        (OutputLayer) restored.getLayerWiseConfigurations().getConf(1).getLayer();
    assertThat(((LossMCXENT) out.getLossFn()).getWeights().toDoubleVector())
        .containsExactly(new double[] {400.0 / 720, 5.0}, within(1e-6));
  }

  @Test
  void explicitClassWeightsMustMatchTheClasses(JavaSparkContext sc) {
    HeadConfig config = HeadTrainerTest.fast().withClassWeights(ClassWeights.parse("1,2,3"));
    assertThatThrownBy(() -> HeadTrainer.fit(sc, train2, validation2, 2, config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Class weights 1.0,2.0,3.0 give 3 weights but there are 2 classes; give one weight"
                + " per class, in class order.");
    // Explicit weights go into the loss as given.
    MultiLayerNetwork net =
        HeadNetwork.build(
            DIMS, 2, HeadTrainerTest.fast().withClassWeights(ClassWeights.parse("1,3")));
    OutputLayer out = (OutputLayer) net.getLayerWiseConfigurations().getConf(2).getLayer();
    assertThat(((LossMCXENT) out.getLossFn()).getWeights().toDoubleVector())
        .containsExactly(1.0, 3.0);
    assertThat(((LossMCXENT) out.getLossFn()).getWeights().shape()).containsExactly(1, 2);
  }
}
