package io.bottleneck.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.rdd.PartitionPruningRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.AMSGrad;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nadam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.RmsProp;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.runtime.AbstractFunction1;

/**
 * Trains the classification head on bottleneck features with DL4J's parameter averaging
 * ({@link SparkDl4jMultiLayer} + {@link ParameterAveragingTrainingMaster}), with Keras-like
 * per-epoch metrics, early stopping and learning-rate reduction on the validation loss.
 *
 * <p>Each epoch the rows are shuffled by a seeded permutation (seed + epoch) and laid out by this
 * class, not by DL4J: partition p holds mini-batches [p*F, (p+1)*F) (F = averagingFrequency), one
 * DataSet per mini-batch, and each averaging round trains on the next {@code numWorkers}
 * partitions. DL4J's own split-and-rebalance would, with M2, silently skip data (a worker stops
 * after F mini-batches, but its random splits hold more) and place leftovers with an unseeded
 * Random; this layout uses every row exactly once per epoch, deterministically.
 *
 * <p>An epoch is one Spark job per averaging round (the first also runs the epoch's shuffle; {@link
 * RoundTrainingMaster} skips DL4J's per-round count job) and one job for the training and
 * validation metrics together ({@link EpochMetrics}).
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
   * Builds the network to train: the head's by default ({@link #buildNetwork(int, int,
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
    return fit(sc, train, validation, numClasses, config, hooks, HeadTrainer::buildNetwork);
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
    try (Input input = Input.prepare(train, validation, numClasses)) {
      return fit(sc, input, config, hooks, factory);
    }
  }

  /**
   * Trains one head on an already prepared input; {@link HeadSearch} trains every trial on one
   * {@link Input}, so the input Datasets are checked, converted and cached once per search.
   */
  static TrainedHead fit(
      JavaSparkContext sc, Input input, HeadConfig config, Collection<TrainingHook> hooks) {
    return fit(sc, input, config, hooks, HeadTrainer::buildNetwork);
  }

  private static TrainedHead fit(
      JavaSparkContext sc, Input input, HeadConfig config, Collection<TrainingHook> hooks,
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
      return train(sc, input, lossWeights, config, hooks, factory);
    }
  }

  /** Explicit class weights of another number of classes fail before any Spark job. */
  static void requireClassWeightsMatch(HeadConfig config, int numClasses) {
    if (numClasses >= 2 && config.classWeights().kind() == ClassWeights.Kind.EXPLICIT) {
      config.classWeights().resolve(new long[numClasses]);
    }
  }

  private static TrainedHead train(
      JavaSparkContext sc,
      Input input,
      double[] lossWeights,
      HeadConfig config,
      Collection<TrainingHook> hooks,
      NetworkFactory factory) {
    JavaRDD<Example> trainExamples = input.train;
    JavaRDD<Example> validationExamples = input.validation;
    long trainRows = input.trainRows;
    int inputSize = input.inputSize;
    int numClasses = input.numClasses;
    MultiLayerNetwork net = factory.build(inputSize, numClasses, config, lossWeights);
    if (HeadSnapshot.inputLength(net) != inputSize) {
      throw new IllegalArgumentException("The network takes inputs of " + HeadSnapshot.inputLength(net)
          + " values but column " + Columns.FEATURES + " holds " + inputSize);
    }
    int workers = sc.defaultParallelism();
    RoundTrainingMaster master = trainingMaster(workers, config, hooks);
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(sc, net, master);
    EpochLayout layout =
        new EpochLayout(trainRows, config.batchSizePerWorker(), config.averagingFrequency());
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
    try (EpochMetrics metrics = new EpochMetrics(sc, trainExamples, validationExamples, net)) {
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
              partitionRange(batches, first, first + workers),
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

  private static void requireInputSchema(Dataset<Row> data) {
    Schemas.requireColumn(
        data.schema(), Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType));
    Schemas.requireColumn(data.schema(), Columns.LABEL_INDEX, DataTypes.IntegerType);
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
   * {@link #buildNetwork(int, int, HeadConfig, double[])} with the class weights resolved for
   * equal class counts: "balanced" is then the unweighted loss, explicit weights are used as
   * given.
   */
  public static MultiLayerNetwork buildNetwork(int inputSize, int numClasses, HeadConfig config) {
    long[] equalCounts = new long[numClasses];
    Arrays.fill(equalCounts, 1);
    return buildNetwork(inputSize, numClasses, config, config.classWeights().resolve(equalCounts));
  }

  /**
   * Per hidden size Dense(relu), or with batch norm Dense(identity, no bias) -> BatchNormalization
   * -> ReLU (the original paper's placement, on the pre-activations; BN's beta takes the place of
   * the bias), then Dropout when configured; then softmax with cross-entropy (MCXENT), weighted
   * per class when {@code lossWeights} is not null. The optimizer, L2 on weights, He init for ReLU
   * layers and Xavier for the output, all seeded.
   *
   * <p>BatchNormalization keeps its running mean and (log) standard deviation among the network's
   * parameters, updated by a no-op updater outside the learning rate and without L2: parameter
   * averaging averages them with the weights, the snapshots and {@link EpochMetrics} carry them in
   * the flat parameter vector, and inference ({@code output(x, false)}) normalizes with them.
   *
   * @param lossWeights one weight per class for the training loss, or null for the plain
   *     cross-entropy
   */
  public static MultiLayerNetwork buildNetwork(
      int inputSize, int numClasses, HeadConfig config, double[] lossWeights) {
    NeuralNetConfiguration.ListBuilder layers =
        new NeuralNetConfiguration.Builder()
            .seed(config.seed())
            .dataType(DataType.FLOAT)
            .updater(updater(config.optimizer(), config.learningRate()))
            .l2(config.l2())
            .list();
    int in = inputSize;
    for (int units : config.hiddenUnits()) {
      if (config.batchNorm()) {
        layers.layer(
            new DenseLayer.Builder()
                .nIn(in)
                .nOut(units)
                .activation(Activation.IDENTITY)
                .hasBias(false)
                .weightInit(WeightInit.RELU)
                .build());
        layers.layer(new BatchNormalization.Builder().nIn(units).nOut(units).build());
        layers.layer(new ActivationLayer.Builder().activation(Activation.RELU).build());
      } else {
        layers.layer(
            new DenseLayer.Builder()
                .nIn(in)
                .nOut(units)
                .activation(Activation.RELU)
                .weightInit(WeightInit.RELU)
                .build());
      }
      if (config.dropout() > 0) {
        // DL4J takes the probability of RETAINING an activation.
        layers.layer(new DropoutLayer.Builder(1.0 - config.dropout()).nIn(units).nOut(units).build());
      }
      in = units;
    }
    layers.layer(
        new OutputLayer.Builder(lossFunction(lossWeights, numClasses))
            .activation(Activation.SOFTMAX)
            .nIn(in)
            .nOut(numClasses)
            .weightInit(WeightInit.XAVIER)
            .build());
    MultiLayerNetwork net = new MultiLayerNetwork(layers.build());
    net.init();
    return net;
  }

  /**
   * Cross-entropy, weighted per class when weights are given. Only training uses it: the losses
   * that {@link EpochMetrics} reports (and early stopping, the plateau and the search compare)
   * are the unweighted cross-entropy, so val_loss means the same whatever the class weights.
   */
  static LossMCXENT lossFunction(double[] lossWeights, int numClasses) {
    if (lossWeights == null) {
      return new LossMCXENT();
    }
    if (lossWeights.length != numClasses) {
      throw new IllegalArgumentException(
          "lossWeights has " + lossWeights.length + " values but there are " + numClasses
              + " classes");
    }
    float[] w = new float[numClasses];
    for (int c = 0; c < numClasses; c++) {
      w[c] = (float) lossWeights[c];
    }
    return new LossMCXENT(Nd4j.create(w, new long[] {1, numClasses}, DataType.FLOAT));
  }

  /** The updater for an optimizer name of {@link HeadConfig#OPTIMIZERS}. */
  static IUpdater updater(String optimizer, double learningRate) {
    switch (optimizer) {
      case "adam":
        return new Adam(learningRate);
      case "nadam":
        return new Nadam(learningRate);
      case "amsgrad":
        return new AMSGrad(learningRate);
      case "sgd":
        return new Sgd(learningRate);
      case "nesterov":
        return new Nesterovs(learningRate, 0.9);
      case "rmsprop":
        return new RmsProp(learningRate);
      default:
        throw new IllegalArgumentException(
            "optimizer must be one of " + String.join(", ", HeadConfig.OPTIMIZERS) + " but was "
                + optimizer);
    }
  }

  static RoundTrainingMaster trainingMaster(
      int workers, HeadConfig config, Collection<TrainingHook> hooks) {
    ParameterAveragingTrainingMaster.Builder builder =
        new ParameterAveragingTrainingMaster.Builder(workers, config.batchSizePerWorker())
            .batchSizePerWorker(config.batchSizePerWorker())
            .averagingFrequency(config.averagingFrequency())
            .workerPrefetchNumBatches(0)
            // M2's builder leaves this false although its javadoc says true: Adam's moments would
            // restart from zero after every averaging round.
            .saveUpdater(true)
            // The default (Export) writes every RDD to hadoop.tmp.dir first.
            .rddTrainingApproach(RDDTrainingApproach.Direct)
            // Partitions are laid out by epochBatches; rebalancing would reshuffle and can drop rows.
            .repartionData(Repartition.Never)
            // Each round's RDD is read once (RoundTrainingMaster skips DL4J's count job), so
            // persisting it would only add a copy.
            .storageLevel(null)
            .rngSeed(config.seed());
    List<TrainingHook> all = new ArrayList<>();
    if (config.dropout() > 0) {
      all.add(new DropoutSeeder(config.seed()));
    }
    all.addAll(hooks);
    if (!all.isEmpty()) {
      builder.trainingHooks(all);
    }
    return new RoundTrainingMaster(builder);
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

  // ---------------------------------------------------------------- data layout

  /** One labeled row; index is the row's position in the (persisted) input, for the shuffle. */
  static final class Example implements Serializable {
    private static final long serialVersionUID = 1L;
    final long index;
    final float[] features;
    final int label;

    Example(long index, float[] features, int label) {
      this.index = index;
      this.features = features;
      this.label = label;
    }
  }

  static JavaRDD<Example> toExamples(Dataset<Row> data) {
    return data.select(Columns.FEATURES, Columns.LABEL_INDEX)
        .javaRDD()
        .zipWithIndex()
        .map(
            t -> {
              List<Float> values = t._1().getList(0);
              float[] features = new float[values.size()];
              for (int i = 0; i < features.length; i++) {
                features[i] = values.get(i);
              }
              return new Example(t._2(), features, t._1().getInt(1));
            });
  }

  /** The epoch's mini-batches as {@link EpochLayout} lays them out (seed + epoch). */
  static JavaRDD<DataSet> epochBatches(
      JavaRDD<Example> examples,
      long rows,
      int inputSize,
      int numClasses,
      HeadConfig config,
      int epoch) {
    return new EpochLayout(rows, config.batchSizePerWorker(), config.averagingFrequency())
        .batches(examples, config.seed() + epoch, inputSize, numClasses);
  }

  /** Partitions [from, to) of {@code rdd} as an RDD of their own, without a shuffle. */
  static <T> JavaRDD<T> partitionRange(JavaRDD<T> rdd, int from, int to) {
    PartitionPruningRDD<T> pruned =
        PartitionPruningRDD.create(rdd.rdd(), new PartitionRange(from, to));
    return new JavaRDD<>(pruned, rdd.classTag());
  }

  private static final class PartitionRange extends AbstractFunction1<Object, Object>
      implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int from;
    private final int to;

    PartitionRange(int from, int to) {
      this.from = from;
      this.to = to;
    }

    @Override
    public Object apply(Object partition) {
      int p = (Integer) partition;
      return p >= from && p < to;
    }
  }

  // ---------------------------------------------------------------- input checks

  /**
   * The training input of one or more fits, checked, converted to {@link Example}s and persisted
   * (on-heap float arrays, which Spark sizes correctly; disk rather than recomputation, so the row
   * indices the shuffle relies on never change). Closing unpersists.
   */
  static final class Input implements AutoCloseable {
    final JavaRDD<Example> train;
    final long trainRows;
    /** Training rows per label index, counted on the persisted rows. */
    final long[] classCounts;
    /** Null when there are no validation rows. */
    final JavaRDD<Example> validation;
    final int inputSize;
    final int numClasses;

    private Input(
        JavaRDD<Example> train, long[] classCounts, JavaRDD<Example> validation, int inputSize,
        int numClasses) {
      this.train = train;
      this.classCounts = classCounts;
      long rows = 0;
      for (long c : classCounts) {
        rows += c;
      }
      this.trainRows = rows;
      this.validation = validation;
      this.inputSize = inputSize;
      this.numClasses = numClasses;
    }

    /**
     * Checks {@code train} (features array&lt;float&gt;, label_index int in [0, numClasses)) and
     * {@code validation} (null or empty: none), then persists both as examples.
     */
    static Input prepare(Dataset<Row> train, Dataset<Row> validation, int numClasses) {
      Objects.requireNonNull(train, "train");
      requireInputSchema(train);
      if (validation != null) {
        requireInputSchema(validation);
      }
      if (numClasses < 2) {
        throw new IllegalArgumentException("numClasses must be >= 2 but was " + numClasses);
      }

      InputSummary trainSummary = InputSummary.of(train, "training set", numClasses);
      if (trainSummary.rows == 0) {
        throw new IllegalArgumentException(
            "The training set is empty: the head needs at least one row with "
                + Columns.FEATURES + " and " + Columns.LABEL_INDEX + ".");
      }
      int inputSize = trainSummary.featureLength;
      boolean hasValidation = false;
      if (validation != null) {
        InputSummary v = InputSummary.of(validation, "validation set", numClasses);
        if (v.rows > 0 && v.featureLength != inputSize) {
          throw new IllegalArgumentException(
              "Column " + Columns.FEATURES + " has length " + v.featureLength
                  + " in the validation set but " + inputSize + " in the training set.");
        }
        hasValidation = v.rows > 0;
      }

      JavaRDD<Example> trainExamples = toExamples(train).persist(StorageLevel.MEMORY_AND_DISK());
      JavaRDD<Example> validationExamples =
          hasValidation ? toExamples(validation).persist(StorageLevel.MEMORY_AND_DISK()) : null;
      try {
        // Counting what was cached (not the summary's count) keeps n and the indices consistent
        // even if the input is not deterministic.
        long[] counts = trainExamples.aggregate(new long[numClasses], Input::add, Input::sum);
        return new Input(trainExamples, counts, validationExamples, inputSize, numClasses);
      } catch (RuntimeException e) {
        trainExamples.unpersist(false);
        if (validationExamples != null) {
          validationExamples.unpersist(false);
        }
        throw e;
      }
    }

    private static long[] add(long[] counts, Example e) {
      counts[e.label]++;
      return counts;
    }

    private static long[] sum(long[] a, long[] b) {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    }

    boolean hasValidation() {
      return validation != null;
    }

    @Override
    public void close() {
      train.unpersist(false);
      if (validation != null) {
        validation.unpersist(false);
      }
    }
  }

  /** One aggregation over an input: row count and what the checks need, with messages. */
  private static final class InputSummary {
    final long rows;
    final int featureLength;

    private InputSummary(long rows, int featureLength) {
      this.rows = rows;
      this.featureLength = featureLength;
    }

    static InputSummary of(Dataset<Row> data, String what, int numClasses) {
      String f = Columns.FEATURES;
      String l = Columns.LABEL_INDEX;
      Row r =
          data.agg(
                  count(lit(1)),
                  sum(when(col(f).isNull(), 1).otherwise(0)),
                  sum(when(col(l).isNull(), 1).otherwise(0)),
                  sum(when(expr("exists(`" + f + "`, x -> x IS NULL OR isnan(x))"), 1).otherwise(0)),
                  min(when(col(f).isNotNull(), size(col(f)))),
                  max(when(col(f).isNotNull(), size(col(f)))),
                  min(col(l)),
                  max(col(l)))
              .first();
      long rows = r.getLong(0);
      if (rows == 0) {
        return new InputSummary(0, 0);
      }
      if (r.getLong(1) > 0) {
        throw new IllegalArgumentException(
            "Column " + f + " has " + r.getLong(1) + " null values in the " + what + ".");
      }
      if (r.getLong(2) > 0) {
        throw new IllegalArgumentException(
            "Column " + l + " has " + r.getLong(2) + " null values in the " + what + ".");
      }
      if (r.getLong(3) > 0) {
        throw new IllegalArgumentException(
            "Column " + f + " has " + r.getLong(3) + " vectors with null or NaN elements in the "
                + what + ".");
      }
      int minLength = r.getInt(4);
      int maxLength = r.getInt(5);
      if (minLength != maxLength) {
        throw new IllegalArgumentException(
            "Column " + f + " must hold vectors of one length, but lengths range from " + minLength
                + " to " + maxLength + " in the " + what + ".");
      }
      if (maxLength == 0) {
        throw new IllegalArgumentException("Column " + f + " holds empty vectors in the " + what + ".");
      }
      int minLabel = r.getInt(6);
      int maxLabel = r.getInt(7);
      if (minLabel < 0 || maxLabel >= numClasses) {
        throw new IllegalArgumentException(
            "Column " + l + " must be in [0, " + numClasses + ") for " + numClasses
                + " classes but ranges from " + minLabel + " to " + maxLabel + " in the " + what
                + ".");
      }
      return new InputSummary(rows, maxLength);
    }
  }
}
