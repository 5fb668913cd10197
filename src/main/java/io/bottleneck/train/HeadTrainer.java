package io.bottleneck.train;

import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains the classification head on bottleneck features with DL4J's parameter averaging
 * ({@link SparkDl4jMultiLayer} + {@link ParameterAveragingTrainingMaster}), with Keras-like
 * per-epoch metrics, early stopping and learning-rate reduction on the validation loss. This is
 * the entry point of training; the work is split by what it is: {@link TrainingInput} checks and
 * caches the rows, {@link HeadNetwork} builds the network, {@link RoundTrainingMaster#forHead}
 * sets up parameter averaging, {@link EpochLoop} runs the epochs.
 *
 * <p>Each epoch the rows are shuffled by a seeded permutation (seed + epoch) and laid out by
 * {@link EpochLayout}, not by DL4J: partition p holds mini-batches [p*F, (p+1)*F) (F =
 * averagingFrequency), one DataSet per mini-batch, and each averaging round trains on the next
 * {@code numWorkers} partitions. DL4J's own split-and-rebalance would, with M2, silently skip data
 * (a worker stops after F mini-batches, but its random splits hold more) and place leftovers with
 * an unseeded Random; this layout uses every row exactly once per epoch, deterministically.
 */
public final class HeadTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(HeadTrainer.class);

  private HeadTrainer() {}

  /**
   * Trains a head on {@code train} (features array&lt;float&gt;, label_index int in
   * [0, numClasses)) and reports validation metrics on {@code validation}, which may be null or
   * empty: then there is no early stopping or plateau, and the validation columns are NaN.
   */
  public static TrainedHead fit(
      JavaSparkContext sc,
      Dataset<Row> train,
      Dataset<Row> validation,
      int numClasses,
      HeadConfig config) {
    return fit(sc, train, validation, numClasses, config, List.of());
  }

  /**
   * Builds the network to train: the head's by default ({@link HeadNetwork#build(int, int,
   * HeadConfig, double[])}); fine-tuning and training from scratch bring their own.
   */
  @FunctionalInterface
  public interface NetworkFactory {
    /**
     * @param inputSize length of the feature vectors
     * @param lossWeights per-class weights of the training loss, or null
     */
    MultiLayerNetwork build(int inputSize, int numClasses, HeadConfig config, double[] lossWeights);
  }

  /** As {@link #fit(JavaSparkContext, Dataset, Dataset, int, HeadConfig)}; hooks see worker batches. */
  static TrainedHead fit(
      JavaSparkContext sc,
      Dataset<Row> train,
      Dataset<Row> validation,
      int numClasses,
      HeadConfig config,
      Collection<TrainingHook> hooks) {
    return fit(sc, train, validation, numClasses, config, hooks, HeadNetwork::build);
  }

  /**
   * As {@link #fit(JavaSparkContext, Dataset, Dataset, int, HeadConfig)}, training the network
   * {@code factory} builds (same epochs, early stopping, plateau and metrics).
   */
  public static TrainedHead fit(
      JavaSparkContext sc,
      Dataset<Row> train,
      Dataset<Row> validation,
      int numClasses,
      HeadConfig config,
      NetworkFactory factory) {
    return fit(sc, train, validation, numClasses, config, List.of(), factory);
  }

  private static TrainedHead fit(
      JavaSparkContext sc,
      Dataset<Row> train,
      Dataset<Row> validation,
      int numClasses,
      HeadConfig config,
      Collection<TrainingHook> hooks,
      NetworkFactory factory) {
    Objects.requireNonNull(sc, "sc");
    Objects.requireNonNull(config, "config");
    requireClassWeightsMatch(config, numClasses);
    try (TrainingInput input = TrainingInput.prepare(train, validation, numClasses)) {
      return fit(sc, input, config, hooks, factory);
    }
  }

  /**
   * Trains one head on an already prepared input; {@link HeadSearch} trains every trial on one
   * {@link TrainingInput}, so the input Datasets are checked, converted and cached once per search.
   */
  static TrainedHead fit(
      JavaSparkContext sc, TrainingInput input, HeadConfig config, Collection<TrainingHook> hooks) {
    return fit(sc, input, config, hooks, HeadNetwork::build);
  }

  private static TrainedHead fit(
      JavaSparkContext sc, TrainingInput input, HeadConfig config, Collection<TrainingHook> hooks,
      NetworkFactory factory) {
    Objects.requireNonNull(sc, "sc");
    Objects.requireNonNull(config, "config");
    double[] lossWeights = config.classWeights().resolve(input.classCounts);
    if (lossWeights != null) {
      LOG.info(
          "Class weights {} for {} training rows per class: {}",
          config.classWeights(), Arrays.toString(input.classCounts), Arrays.toString(lossWeights));
    }
    // In local mode the executor tasks are threads of this JVM: one BLAS thread each (see
    // SingleThreadedBlas), restored when training ends.
    try (SingleThreadedBlas blas = SingleThreadedBlas.open()) {
      return EpochLoop.run(sc, input, lossWeights, config, hooks, factory);
    }
  }

  /** Explicit class weights of another number of classes fail before any Spark job. */
  static void requireClassWeightsMatch(HeadConfig config, int numClasses) {
    if (numClasses >= 2 && config.classWeights().kind() == ClassWeights.Kind.EXPLICIT) {
      config.classWeights().resolve(new long[numClasses]);
    }
  }
}
