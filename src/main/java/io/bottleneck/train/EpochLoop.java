package io.bottleneck.train;

import io.bottleneck.io.Columns;
import io.bottleneck.train.HeadTrainer.NetworkFactory;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.IUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The epochs of one training run: each epoch's averaging rounds over the batches {@link
 * EpochLayout} lays out, the Keras-like end-of-epoch metrics ({@link EpochMetrics}), and on the
 * validation loss early stopping, learning-rate reduction on a plateau ({@link PlateauMonitor})
 * and the restoring of the best weights. {@link HeadTrainer} prepares what it needs; this class
 * only decides what happens from one epoch to the next.
 *
 * <p>An epoch is one Spark job per averaging round (the first also runs the epoch's shuffle; {@link
 * RoundTrainingMaster} skips DL4J's per-round count job) and one job for the training and
 * validation metrics together.
 */
final class EpochLoop {
  /** HeadTrainer's logger, as before the loop had a class of its own: the log lines keep their name. */
  private static final Logger LOG = LoggerFactory.getLogger(HeadTrainer.class);

  private EpochLoop() {}

  /**
   * Trains the network {@code factory} builds on {@code input} for up to {@code config.epochs()}
   * epochs; {@code lossWeights} (or null) weigh the training loss per class.
   */
  static TrainedHead run(
      JavaSparkContext sc,
      TrainingInput input,
      double[] lossWeights,
      HeadConfig config,
      Collection<TrainingHook> hooks,
      NetworkFactory factory) {
    JavaRDD<Example> trainExamples = input.train;
    long trainRows = input.trainRows;
    int inputSize = input.inputSize;
    int numClasses = input.numClasses;
    MultiLayerNetwork net = factory.build(inputSize, numClasses, config, lossWeights);
    if (HeadSnapshot.inputLength(net) != inputSize) {
      throw new IllegalArgumentException("The network takes inputs of " + HeadSnapshot.inputLength(net)
          + " values but column " + Columns.FEATURES + " holds " + inputSize);
    }
    int workers = sc.defaultParallelism();
    RoundTrainingMaster master = RoundTrainingMaster.forHead(workers, config, hooks);
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
    EpochLayout layout = EpochLayout.of(trainRows, config);
    LOG.info(
        "Training head {} -> {}{} -> {} on {} rows: {} workers, {} lr {}, batch {} per worker,"
            + " averaging every {} batches, up to {} epochs",
        inputSize, config.hiddenUnits(), config.batchNorm() ? " (batch norm)" : "", numClasses,
        trainRows, workers, config.optimizer(), config.learningRate(), config.batchSizePerWorker(),
        config.averagingFrequency(), config.epochs());

    boolean hasValidation = input.hasValidation();
    PlateauMonitor monitor = new PlateauMonitor(config);
    List<EpochStats> history = new ArrayList<>();
    INDArray bestParams = null;
    boolean stoppedEarly = false;
    double learningRate = config.learningRate();
    try (EpochMetrics metrics = EpochMetrics.forInput(sc, input, net)) {
      for (int epoch = 0; epoch < config.epochs(); epoch++) {
        long start = System.nanoTime();
        JavaRDD<DataSet> batches =
            layout.batches(trainExamples, config.seed() + epoch, inputSize, numClasses);
        // One job per averaging round: the first also runs the epoch's shuffle, whose output the
        // later rounds read.
        for (int first = 0; first < layout.partitions(); first += workers) {
          // The master directly, not sparkNet.fit(): fit() also bumps the epoch count per call.
          master.executeRound(
              sparkNet,
              PartitionRange.of(batches, first, first + workers),
              layout.dataSetsIn(first, first + workers));
        }
        net.incrementEpochCount();

        EpochMetrics.Totals totals = metrics.of(net);
        double[] trainTotals = totals.train();
        double[] validationTotals = totals.validation();
        EpochStats stats =
            new EpochStats(
                epoch,
                trainTotals[0] / trainTotals[2],
                trainTotals[1] / trainTotals[2],
                hasValidation ? validationTotals[0] / validationTotals[2] : Double.NaN,
                hasValidation ? validationTotals[1] / validationTotals[2] : Double.NaN,
                learningRate);
        history.add(stats);
        LOG.info(formatEpoch(stats, config.epochs(), (System.nanoTime() - start) / 1e9));

        if (!hasValidation) {
          continue;
        }
        PlateauMonitor.Decision decision = monitor.onEpochEnd(epoch, stats.validationLoss());
        if (decision.improved() && config.restoreBestWeights()) {
          bestParams = net.params().dup();
        }
        if (decision.stop() && epoch < config.epochs() - 1) {
          stoppedEarly = true;
          LOG.info(
              "Early stopping after epoch {}: val_loss has not improved by {} for {} epochs",
              epoch + 1, config.earlyStoppingMinDelta(), config.earlyStoppingPatience());
          break;
        }
        if (decision.learningRate() != learningRate) {
          learningRate = decision.learningRate();
          setLearningRate(net, learningRate);
          LOG.info(String.format(Locale.ROOT, "Reducing learning rate to %.1e", learningRate));
        }
      }
    }

    int bestEpoch = history.size() - 1;
    if (hasValidation && monitor.bestEpoch() >= 0) {
      bestEpoch = monitor.bestEpoch();
      if (bestParams != null && bestEpoch != history.size() - 1) {
        net.setParams(bestParams);
        LOG.info(
            "Restored the weights of epoch {} (val_loss {})",
            bestEpoch + 1, String.format(Locale.ROOT, "%.4f", monitor.bestLoss()));
      }
    }
    return new TrainedHead(net, history, bestEpoch, stoppedEarly, weightList(lossWeights));
  }

  private static List<Double> weightList(double[] weights) {
    List<Double> list = new ArrayList<>();
    if (weights != null) {
      for (double w : weights) {
        list.add(w);
      }
    }
    return list;
  }

  /**
   * Sets the optimizer's learning rate in the layer configurations, which {@code getWorkerInstance}
   * broadcasts (cloned) to the workers at every averaging round, and in the driver's updater.
   */
  static void setLearningRate(MultiLayerNetwork net, double learningRate) {
    net.setLearningRate(learningRate);
    double configured = configuredLearningRate(net);
    if (configured != learningRate) {
      throw new IllegalStateException(
          "Setting the learning rate to " + learningRate + " left " + configured
              + " in the layer configuration that the workers receive.");
    }
  }

  /** The learning rate in the configuration that the workers are built from. */
  static double configuredLearningRate(MultiLayerNetwork net) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    for (int i = 0; i < conf.getConfs().size(); i++) {
      if (conf.getConf(i).getLayer() instanceof BaseLayer layer) {
        IUpdater updater = layer.getIUpdater();
        if (updater != null && updater.hasLearningRate() && net.getLayer(i).numParams() > 0) {
          return updater.getLearningRate(conf.getIterationCount(), conf.getEpochCount());
        }
      }
    }
    throw new IllegalStateException("The head has no layer with a learning rate.");
  }

  /** One Keras-like line: {@code Epoch 3/30 - loss: ... - lr: 1.0e-03 - 4.2s}. */
  static String formatEpoch(EpochStats s, int epochs, double seconds) {
    StringBuilder b =
        new StringBuilder(
            String.format(
                Locale.ROOT,
                "Epoch %d/%d - loss: %.4f - accuracy: %.4f",
                s.epoch() + 1, epochs, s.trainLoss(), s.trainAccuracy()));
    if (!Double.isNaN(s.validationLoss())) {
      b.append(
          String.format(
              Locale.ROOT,
              " - val_loss: %.4f - val_accuracy: %.4f",
              s.validationLoss(), s.validationAccuracy()));
    }
    b.append(String.format(Locale.ROOT, " - lr: %.1e - %.1fs", s.learningRate(), seconds));
    return b.toString();
  }
}
