package io.bottleneck.train;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.rdd.ShuffledRDD;
import org.apache.spark.serializer.JavaSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import scala.Tuple2;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;

/**
 * Where each row goes in one epoch: rows take the positions of a permutation seeded with the
 * epoch's seed; position q lands in partition q / (batch * F) (F = averaging frequency), at offset
 * q mod (batch * F), and each run of batch consecutive offsets is one mini-batch DataSet. Every row
 * is used exactly once per epoch, and the layout depends on the seed alone, never on how Spark
 * partitions or orders the input.
 *
 * <p>The shuffle moves one block per (input partition, epoch partition) pair, each holding its rows
 * as three primitive arrays, rather than one record per row; the receiving side puts rows at their
 * offsets directly, so there is no sort. It uses Java serialization: a Kryo shuffle serializer is
 * deserialized into every task and builds a new Kryo instance (with all its registrations) per
 * task, which cost more than moving these arrays.
 */
final class EpochLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final long rows;
  private final int batchSize;
  private final long rowsPerPartition;
  private final int partitions;

  EpochLayout(long rows, int batchSize, int averagingFrequency) {
    if (rows < 1) {
      throw new IllegalArgumentException("rows must be >= 1 but was " + rows);
    }
    this.rows = rows;
    this.batchSize = batchSize;
    this.rowsPerPartition = (long) batchSize * averagingFrequency;
    long count = (rows + rowsPerPartition - 1) / rowsPerPartition;
    if (count > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("Too many rows for one epoch: " + rows);
    }
    this.partitions = (int) count;
  }

  /** The layout of {@code rows} rows with {@code config}'s batch size and averaging frequency. */
  static EpochLayout of(long rows, HeadConfig config) {
    return new EpochLayout(rows, config.batchSizePerWorker(), config.averagingFrequency());
  }

  /** Partitions of the epoch's batch RDD: each is one worker's share of one averaging round. */
  int partitions() {
    return partitions;
  }

  /** Rows in partition {@code p}: rowsPerPartition except in the last one. */
  int rowsIn(int p) {
    return (int) Math.min(rowsPerPartition, rows - p * rowsPerPartition);
  }

  /** Mini-batch DataSets in partitions [from, to). */
  long dataSetsIn(int from, int to) {
    long total = 0;
    for (int p = Math.max(0, from); p < Math.min(to, partitions); p++) {
      total += (rowsIn(p) + batchSize - 1) / batchSize;
    }
    return total;
  }

  /** The epoch's mini-batches, laid out as the class describes. */
  JavaRDD<DataSet> batches(JavaRDD<Example> examples, long seed, int inputSize, int numClasses) {
    IndexPermutation permutation = new IndexPermutation(rows, seed);
    JavaRDD<Tuple2<Integer, RowBlock>> blocks =
        examples.mapPartitions(new BlockRows(this, permutation, inputSize));
    ClassTag<Integer> keyTag = ClassTag$.MODULE$.apply(Integer.class);
    ClassTag<RowBlock> valueTag = ClassTag$.MODULE$.apply(RowBlock.class);
    ShuffledRDD<Integer, RowBlock, RowBlock> shuffled =
        new ShuffledRDD<>(blocks.rdd(), new IdentityPartitioner(partitions), keyTag, valueTag, valueTag);
    shuffled.setSerializer(new JavaSerializer(examples.context().getConf()));
    return new JavaRDD<>(shuffled, ClassTag$.MODULE$.apply(Tuple2.class))
        .mapPartitionsWithIndex(new AssembleBatches(this, inputSize, numClasses), true);
  }

  /** Rows of one input partition bound for one epoch partition, at their offsets there. */
  static final class RowBlock implements Serializable {
    private static final long serialVersionUID = 1L;
    final int[] offsets;
    final int[] labels;
    /** Row-major, offsets.length x inputSize. */
    final float[] features;

    RowBlock(int[] offsets, int[] labels, float[] features) {
      this.offsets = offsets;
      this.labels = labels;
      this.features = features;
    }
  }

  /** Map side: groups an input partition's rows by epoch partition, one block each. */
  private static final class BlockRows
      implements FlatMapFunction<Iterator<Example>, Tuple2<Integer, RowBlock>> {
    private static final long serialVersionUID = 1L;
    private final EpochLayout layout;
    private final IndexPermutation permutation;
    private final int inputSize;

    BlockRows(EpochLayout layout, IndexPermutation permutation, int inputSize) {
      this.layout = layout;
      this.permutation = permutation;
      this.inputSize = inputSize;
    }

    @Override
    public Iterator<Tuple2<Integer, RowBlock>> call(Iterator<Example> rows) {
      List<List<Example>> byPartition = new ArrayList<>(layout.partitions);
      List<List<Integer>> offsetsByPartition = new ArrayList<>(layout.partitions);
      for (int p = 0; p < layout.partitions; p++) {
        byPartition.add(null);
        offsetsByPartition.add(null);
      }
      while (rows.hasNext()) {
        Example e = rows.next();
        if (e.features.length != inputSize) {
          throw new IllegalStateException(
              "Row " + e.index + " has " + e.features.length + " features; expected " + inputSize);
        }
        long q = permutation.apply(e.index);
        int p = (int) (q / layout.rowsPerPartition);
        if (byPartition.get(p) == null) {
          byPartition.set(p, new ArrayList<>());
          offsetsByPartition.set(p, new ArrayList<>());
        }
        byPartition.get(p).add(e);
        offsetsByPartition.get(p).add((int) (q - p * layout.rowsPerPartition));
      }
      List<Tuple2<Integer, RowBlock>> out = new ArrayList<>();
      for (int p = 0; p < layout.partitions; p++) {
        List<Example> part = byPartition.get(p);
        if (part == null) {
          continue;
        }
        int n = part.size();
        int[] offsets = new int[n];
        int[] labels = new int[n];
        float[] features = new float[n * inputSize];
        for (int i = 0; i < n; i++) {
          offsets[i] = offsetsByPartition.get(p).get(i);
          labels[i] = part.get(i).label;
          System.arraycopy(part.get(i).features, 0, features, i * inputSize, inputSize);
        }
        out.add(new Tuple2<>(p, new RowBlock(offsets, labels, features)));
      }
      return out.iterator();
    }
  }

  /** Key = the epoch partition itself. */
  static final class IdentityPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int partitions;

    IdentityPartitioner(int partitions) {
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof IdentityPartitioner other && other.partitions == partitions;
    }

    @Override
    public int hashCode() {
      return partitions;
    }
  }

  /** Reduce side: rows to their offsets, then consecutive runs of batchSize as DataSets. */
  private static final class AssembleBatches
      implements Function2<Integer, Iterator<Tuple2<Integer, RowBlock>>, Iterator<DataSet>> {
    private static final long serialVersionUID = 1L;
    private final EpochLayout layout;
    private final int inputSize;
    private final int numClasses;

    AssembleBatches(EpochLayout layout, int inputSize, int numClasses) {
      this.layout = layout;
      this.inputSize = inputSize;
      this.numClasses = numClasses;
    }

    @Override
    public Iterator<DataSet> call(Integer partition, Iterator<Tuple2<Integer, RowBlock>> blocks) {
      int n = layout.rowsIn(partition);
      float[] features = new float[n * inputSize];
      int[] labels = new int[n];
      boolean[] filled = new boolean[n];
      int received = 0;
      while (blocks.hasNext()) {
        RowBlock block = blocks.next()._2();
        for (int i = 0; i < block.offsets.length; i++) {
          int offset = block.offsets[i];
          if (filled[offset]) {
            throw new IllegalStateException(
                "Two rows for offset " + offset + " of epoch partition " + partition);
          }
          filled[offset] = true;
          labels[offset] = block.labels[i];
          System.arraycopy(block.features, i * inputSize, features, offset * inputSize, inputSize);
        }
        received += block.offsets.length;
      }
      if (received != n) {
        // The row indices changed between epochs: the layout would skip or repeat rows.
        throw new IllegalStateException(
            "Epoch partition " + partition + " received " + received + " rows; expected " + n);
      }
      return new BatchIterator(features, labels, n);
    }

    private final class BatchIterator implements Iterator<DataSet> {
      private final float[] features;
      private final int[] labels;
      private final int rows;
      private int next;

      BatchIterator(float[] features, int[] labels, int rows) {
        this.features = features;
        this.labels = labels;
        this.rows = rows;
      }

      @Override
      public boolean hasNext() {
        return next < rows;
      }

      @Override
      public DataSet next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        int n = Math.min(layout.batchSize, rows - next);
        float[] x = new float[n * inputSize];
        System.arraycopy(features, next * inputSize, x, 0, x.length);
        float[] y = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
          y[i * numClasses + labels[next + i]] = 1f;
        }
        next += n;
        return new DataSet(
            Nd4j.create(x, new long[] {n, inputSize}, DataType.FLOAT),
            Nd4j.create(y, new long[] {n, numClasses}, DataType.FLOAT));
      }
    }
  }
}
