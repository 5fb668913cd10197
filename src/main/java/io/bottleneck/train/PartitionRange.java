package io.bottleneck.train;

import java.io.Serializable;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.rdd.PartitionPruningRDD;
import scala.runtime.AbstractFunction1;

/**
 * Some consecutive partitions of an RDD as an RDD of their own, without a shuffle: one averaging
 * round trains on the next numWorkers partitions of the epoch's batches ({@link EpochLayout}).
 */
final class PartitionRange extends AbstractFunction1<Object, Object> implements Serializable {
  private static final long serialVersionUID = 1L;
  private final int from;
  private final int to;

  private PartitionRange(int from, int to) {
    this.from = from;
    this.to = to;
  }

  /** Partitions [from, to) of {@code rdd}. */
  static <T> JavaRDD<T> of(JavaRDD<T> rdd, int from, int to) {
    PartitionPruningRDD<T> pruned =
        PartitionPruningRDD.create(rdd.rdd(), new PartitionRange(from, to));
    return new JavaRDD<>(pruned, rdd.classTag());
  }

  @Override
  public Object apply(Object partition) {
    int p = (Integer) partition;
    return p >= from && p < to;
  }
}
