package io.bottleneck.train;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaRDDLike;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.api.TrainingHook;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingWorker;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's parameter averaging, told how many DataSets a round's RDD holds. {@code
 * executeTraining} otherwise starts with a {@code count()} job on its input, a whole extra Spark
 * job per averaging round that recomputes the round's input (its shuffle read) only to learn a
 * number the caller's layout already fixes. Everything else (broadcast, worker fit, averaging of
 * parameters and updater state) is the superclass's. {@link #forHead} holds the settings training
 * needs, which DL4J's defaults get wrong for this use.
 */
final class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
  /** The size of the round being executed; null: count it, as DL4J does. */
  private transient Long roundDataSets;

  /**
   * The broadcast of the round being executed (parameters and updater state), which DL4J never
   * releases: each round's stayed on the driver's heap until a garbage collection let Spark's
   * cleaner find it, so young collections kept copying megabytes of them (~4 MB a round for the
   * default head).
   */
  private transient Broadcast<?> roundBroadcast;

  RoundTrainingMaster(Builder builder) {
    super(builder);
  }

  /**
   * The master that trains a head with {@code config}'s batch size, averaging frequency and seed
   * on {@code workers} workers; {@code hooks} see worker batches (after the dropout seeder, when
   * the head has dropout).
   */
  static RoundTrainingMaster forHead(int workers, HeadConfig config, Collection<TrainingHook> hooks) {
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
            // Partitions are laid out by EpochLayout; rebalancing would reshuffle and can drop rows.
            .repartionData(Repartition.Never)
            // Each round's RDD is read once (executeRound skips DL4J's count job), so
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
   * One averaging round on {@code round}, which must hold exactly {@code dataSets} DataSets in at
   * most numWorkers partitions of at most averagingFrequency DataSets each (so DL4J does not split
   * it further).
   */
  void executeRound(SparkDl4jMultiLayer network, JavaRDD<DataSet> round, long dataSets) {
    if (dataSets < 1) {
      throw new IllegalArgumentException("A round needs at least one DataSet but was given " + dataSets);
    }
    roundDataSets = dataSets;
    try {
      executeTraining(network, round);
    } finally {
      roundDataSets = null;
      if (roundBroadcast != null) {
        roundBroadcast.destroy();
        roundBroadcast = null;
      }
    }
  }

  @Override
  public ParameterAveragingTrainingWorker getWorkerInstance(SparkDl4jMultiLayer network) {
    ParameterAveragingTrainingWorker worker = super.getWorkerInstance(network);
    roundBroadcast = broadcastOf(worker);
    return worker;
  }

  /** The broadcast a DL4J worker reads its starting network from (a private field in DL4J 1.0.0-M2). */
  static Broadcast<?> broadcastOf(ParameterAveragingTrainingWorker worker) {
    try {
      Field field = ParameterAveragingTrainingWorker.class.getDeclaredField("broadcast");
      field.setAccessible(true);
      return (Broadcast<?>) field.get(worker);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("DL4J's ParameterAveragingTrainingWorker has no field broadcast any more", e);
    }
  }

  @Override
  protected <T, R extends JavaRDDLike<T, R>> long getTotalDataSetObjectCount(
      JavaRDDLike<T, R> trainingData) {
    Long known = roundDataSets;
    return known != null ? known : super.getTotalDataSetObjectCount(trainingData);
  }
}
