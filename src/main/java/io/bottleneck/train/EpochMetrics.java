package io.bottleneck.train;

import io.bottleneck.evaluate.ClassificationMetrics;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The end-of-epoch loss and accuracy of the head on the training and validation rows, in one Spark
 * job over both: inference mode (no dropout, batch norm with its running statistics), no L2 term,
 * the same clipped loss as the evaluate stage. The loss is the plain cross-entropy whatever the
 * head's class weights (those weigh only the training loss), so val_loss compares across
 * configurations and search trials.
 *
 * <p>The head's configuration is broadcast once per training run; each epoch broadcasts only the
 * parameters, as a float array. Executors keep the networks they built for a configuration and
 * only load new parameters into them, instead of parsing the configuration JSON and building a
 * network in every task of every epoch.
 */
final class EpochMetrics implements AutoCloseable {
  /** Rows per forward pass. */
  private static final int BATCH = 512;

  /** {sum of cross-entropy, correct, rows}; validation null when there is none. */
  record Totals(double[] train, double[] validation) {}

  private final JavaSparkContext sc;
  private final JavaRDD<Example> train;
  private final JavaRDD<Example> validation;
  private final Broadcast<HeadSnapshot> architecture;

  /** {@code net}'s configuration is what every later {@link #of} call evaluates. */
  EpochMetrics(
      JavaSparkContext sc, JavaRDD<Example> train, JavaRDD<Example> validation, MultiLayerNetwork net) {
    this.sc = sc;
    this.train = train;
    this.validation = validation;
    this.architecture = sc.broadcast(HeadSnapshot.of(net));
  }

  /**
   * Metrics of {@code input}'s rows in fewer partitions of the persisted rows (no shuffle): one
   * wave of tasks on the cores, as a forward pass over these rows is quick and each task costs
   * its launch (the sample's 1 + 2 partitions took two waves on 2 cores, every epoch).
   */
  static EpochMetrics forInput(JavaSparkContext sc, TrainingInput input, MultiLayerNetwork net) {
    int[] tasks = tasks(sc.defaultParallelism(), input.trainRows, input.validationRows);
    return new EpochMetrics(
        sc, coalesced(input.train, tasks[0]), input.validation == null ? null : coalesced(input.validation, tasks[1]), net);
  }

  /**
   * Tasks for the training and the validation rows: {@code parallelism} in all, shared by rows,
   * at least one each (and all for training without validation rows).
   */
  static int[] tasks(int parallelism, long trainRows, long validationRows) {
    int p = Math.max(1, parallelism);
    if (validationRows == 0) {
      return new int[] {p, 0};
    }
    if (p < 2) {
      return new int[] {1, 1};
    }
    long train = Math.round((double) p * trainRows / (trainRows + validationRows));
    int trainTasks = (int) Math.max(1, Math.min(p - 1, train));
    return new int[] {trainTasks, p - trainTasks};
  }

  private static JavaRDD<Example> coalesced(JavaRDD<Example> rows, int tasks) {
    return rows.getNumPartitions() > tasks ? rows.coalesce(tasks) : rows;
  }

  /** Totals of {@code net}'s current parameters. */
  Totals of(MultiLayerNetwork net) {
    Broadcast<float[]> params = sc.broadcast(net.params().toFloatVector());
    try {
      int trainPartitions = train.getNumPartitions();
      JavaRDD<Example> rows = validation == null ? train : train.union(validation);
      double[] totals =
          rows.mapPartitionsWithIndex(
                  new PartitionTotals(architecture, params, trainPartitions), false)
              .reduce(new Sum());
      double[] trainTotals = {totals[0], totals[1], totals[2]};
      double[] validationTotals = validation == null ? null : new double[] {totals[3], totals[4], totals[5]};
      return new Totals(trainTotals, validationTotals);
    } finally {
      params.destroy();
    }
  }

  /** The id under which executors keep networks for this run's configuration. */
  long architectureId() {
    return architecture.id();
  }

  @Override
  public void close() {
    architecture.destroy();
  }

  /** {train loss, correct, rows, validation loss, correct, rows} of one partition. */
  private static final class PartitionTotals
      implements Function2<Integer, Iterator<Example>, Iterator<double[]>> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<HeadSnapshot> architecture;
    private final Broadcast<float[]> params;
    private final int trainPartitions;

    PartitionTotals(Broadcast<HeadSnapshot> architecture, Broadcast<float[]> params, int trainPartitions) {
      this.architecture = architecture;
      this.params = params;
      this.trainPartitions = trainPartitions;
    }

    @Override
    public Iterator<double[]> call(Integer partition, Iterator<Example> rows) {
      double[] totals = new double[6];
      if (!rows.hasNext()) {
        return List.of(totals).iterator();
      }
      int slot = partition < trainPartitions ? 0 : 3;
      MultiLayerNetwork net = ExecutorHeads.borrow(architecture);
      try {
        float[] p = params.value();
        net.setParams(Nd4j.create(p, new long[] {1, p.length}, DataType.FLOAT));
        List<Example> batch = new ArrayList<>(BATCH);
        while (rows.hasNext()) {
          batch.clear();
          while (batch.size() < BATCH && rows.hasNext()) {
            batch.add(rows.next());
          }
          addTotals(net, batch, totals, slot);
        }
      } finally {
        ExecutorHeads.release(architecture.id(), net);
      }
      return List.of(totals).iterator();
    }
  }

  private static final class Sum implements Function2<double[], double[], double[]> {
    private static final long serialVersionUID = 1L;

    @Override
    public double[] call(double[] a, double[] b) {
      double[] sum = new double[a.length];
      for (int i = 0; i < a.length; i++) {
        sum[i] = a[i] + b[i];
      }
      return sum;
    }
  }

  private static void addTotals(MultiLayerNetwork net, List<Example> batch, double[] totals, int slot) {
    int inputSize = batch.get(0).features.length;
    float[] flat = new float[batch.size() * inputSize];
    for (int i = 0; i < batch.size(); i++) {
      System.arraycopy(batch.get(i).features, 0, flat, i * inputSize, inputSize);
    }
    INDArray out =
        net.output(Nd4j.create(flat, new long[] {batch.size(), inputSize}, DataType.FLOAT), false);
    double[][] p = out.toDoubleMatrix();
    for (int i = 0; i < batch.size(); i++) {
      int label = batch.get(i).label;
      int argmax = 0;
      for (int c = 1; c < p[i].length; c++) {
        if (p[i][c] > p[i][argmax]) {
          argmax = c;
        }
      }
      totals[slot] += ClassificationMetrics.logLoss(p[i][label]);
      totals[slot + 1] += argmax == label ? 1 : 0;
      totals[slot + 2] += 1;
    }
  }

  /**
   * Networks idle in this JVM, per configuration broadcast: a {@link MultiLayerNetwork} is not
   * safe to share between concurrent tasks, so each task borrows one. Only the most recent few
   * configurations are kept, which bounds what finished training runs leave behind.
   */
  static final class ExecutorHeads {
    private static final int CONFIGURATIONS_KEPT = 4;
    private static final Map<Long, Deque<MultiLayerNetwork>> IDLE =
        new LinkedHashMap<>(8, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<Long, Deque<MultiLayerNetwork>> eldest) {
            return size() > CONFIGURATIONS_KEPT;
          }
        };

    private ExecutorHeads() {}

    static MultiLayerNetwork borrow(Broadcast<HeadSnapshot> architecture) {
      synchronized (IDLE) {
        Deque<MultiLayerNetwork> idle = IDLE.get(architecture.id());
        if (idle != null && !idle.isEmpty()) {
          return idle.pop();
        }
      }
      // Built outside the lock: parsing the configuration is the slow part.
      return architecture.value().restore();
    }

    static void release(long architectureId, MultiLayerNetwork net) {
      synchronized (IDLE) {
        IDLE.computeIfAbsent(architectureId, id -> new ArrayDeque<>()).push(net);
      }
    }

    /** Networks kept for a configuration broadcast, for tests. */
    static int idle(long architectureId) {
      synchronized (IDLE) {
        Deque<MultiLayerNetwork> idle = IDLE.get(architectureId);
        return idle == null ? 0 : idle.size();
      }
    }
  }
}
