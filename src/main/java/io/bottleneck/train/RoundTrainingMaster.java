package io.bottleneck.train;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaRDDLike;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;

/**
 * DL4J's parameter averaging, told how many DataSets a round's RDD holds. {@code
 * executeTraining} otherwise starts with a {@code count()} job on its input, a whole extra Spark
 * job per averaging round that recomputes the round's input (its shuffle read) only to learn a
 * number the caller's layout already fixes. Everything else (broadcast, worker fit, averaging of
 * parameters and updater state) is the superclass's.
 */
final class RoundTrainingMaster extends ParameterAveragingTrainingMaster {
  /** The size of the round being executed; null: count it, as DL4J does. */
  private transient Long roundDataSets;

  RoundTrainingMaster(Builder builder) {
    super(builder);
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
    }
  }

  @Override
  protected <T, R extends JavaRDDLike<T, R>> long getTotalDataSetObjectCount(
      JavaRDDLike<T, R> trainingData) {
    Long known = roundDataSets;
    return known != null ? known : super.getTotalDataSetObjectCount(trainingData);
  }
}
