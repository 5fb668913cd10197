package io.bottleneck.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadNetwork;
import io.bottleneck.train.HeadTrainer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The benchmark's head measurement: one epoch of the train stage's parameter averaging on Spark
 * against one epoch of {@code MultiLayerNetwork.fit} in this JVM, same network, batch size and
 * features.
 */
final class HeadEpochTimings {
  /** Benchmark's logger: the log lines keep their name. */
  private static final Logger LOG = LoggerFactory.getLogger(Benchmark.class);
  /** Extra epochs of the longer Spark fit, whose difference to a one-epoch fit is timed. */
  static final int EXTRA_EPOCHS = 3;

  private final SparkSession spark;
  private final Benchmark.Settings settings;

  HeadEpochTimings(SparkSession spark, Benchmark.Settings settings) {
    this.spark = spark;
    this.settings = settings;
  }

  record HeadTimes(double sparkEpoch, double sparkFit, double localEpoch) {}

  /**
   * Spark: the fastest of {@code headRepeats} timed 1-epoch and (1 + {@value #EXTRA_EPOCHS})-epoch
   * {@code HeadTrainer.fit} calls (after an untimed 1-epoch warm-up); the epoch is their
   * difference divided by {@value #EXTRA_EPOCHS}, which leaves out what every call pays once
   * (input checks, caching the rows as examples) and keeps what every epoch pays (the seeded
   * shuffle into mini-batches, the parameter-averaging rounds, the pass for the epoch's
   * training loss and accuracy).
   * Local: the fastest of {@code headRepeats} {@code MultiLayerNetwork.fit} epochs on fresh
   * networks of the same configuration, after a warm-up epoch.
   */
  HeadTimes measure(Dataset<Row> featured) {
    List<String> classes = new ArrayList<>();
    for (Row r : featured.select(Columns.LABEL).where(col(Columns.LABEL).isNotNull()).distinct().orderBy(Columns.LABEL).collectAsList()) {
      classes.add(r.getString(0));
    }
    int numClasses = Math.max(2, classes.size());
    Column index = lit(0);
    for (int i = classes.size() - 1; i >= 0; i--) {
      index = when(col(Columns.LABEL).equalTo(classes.get(i)), lit(i)).otherwise(index);
    }
    Dataset<Row> train =
        featured.select(col(Columns.FEATURES), index.cast("int").as(Columns.LABEL_INDEX))
            .persist(StorageLevel.MEMORY_ONLY());
    try {
      long rows = train.count();
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
      HeadConfig one = settings.head().withEpochs(1);
      HeadConfig longer = settings.head().withEpochs(1 + EXTRA_EPOCHS);
      HeadTrainer.fit(jsc, train, null, numClasses, one); // warm-up
      double fit1 = Double.MAX_VALUE;
      double fitLonger = Double.MAX_VALUE;
      for (int k = 0; k < settings.headRepeats(); k++) {
        fit1 = Math.min(fit1, Timing.time(() -> HeadTrainer.fit(jsc, train, null, numClasses, one)));
        fitLonger = Math.min(fitLonger, Timing.time(() -> HeadTrainer.fit(jsc, train, null, numClasses, longer)));
      }
      double sparkEpoch = (fitLonger - fit1) / EXTRA_EPOCHS;
      if (!(sparkEpoch > 0)) {
        LOG.warn(
            "bench: a {}-epoch fit ({} s) was not slower than a 1-epoch fit ({} s); using the 1-epoch fit",
            1 + EXTRA_EPOCHS, Timing.fmt(fitLonger), Timing.fmt(fit1));
        sparkEpoch = fit1;
      }
      LOG.info(
          "bench: head epoch on Spark: {} s (1-epoch fit {} s, {}-epoch fit {} s)",
          Timing.fmt(sparkEpoch), Timing.fmt(fit1), 1 + EXTRA_EPOCHS, Timing.fmt(fitLonger));

      List<DataSet> batches = localBatches(train.collectAsList(), numClasses, settings.head());
      int featureSize = batches.get(0).getFeatures().columns();
      HeadConfig local = settings.head().withEpochs(1);
      HeadNetwork.build(featureSize, numClasses, local).fit(new ExistingDataSetIterator(batches)); // warm-up
      double localEpoch = Double.MAX_VALUE;
      for (int k = 0; k < settings.headRepeats(); k++) {
        MultiLayerNetwork net = HeadNetwork.build(featureSize, numClasses, local);
        ExistingDataSetIterator it = new ExistingDataSetIterator(batches);
        long t0 = System.nanoTime();
        net.fit(it);
        localEpoch = Math.min(localEpoch, Timing.seconds(t0));
      }
      LOG.info("bench: head epoch in one JVM ({} rows): {} s", rows, Timing.fmt(localEpoch));
      return new HeadTimes(sparkEpoch, fit1, localEpoch);
    } finally {
      train.unpersist();
    }
  }

  /** Mini-batches of the head's batch size, rows in a seeded random order. */
  static List<DataSet> localBatches(List<Row> rows, int numClasses, HeadConfig head) {
    List<Row> shuffled = new ArrayList<>(rows);
    Collections.shuffle(shuffled, new Random(head.seed()));
    int batch = head.batchSizePerWorker();
    List<DataSet> out = new ArrayList<>();
    for (int from = 0; from < shuffled.size(); from += batch) {
      List<Row> part = shuffled.subList(from, Math.min(shuffled.size(), from + batch));
      int d = part.get(0).getList(0).size();
      float[] features = new float[part.size() * d];
      float[] labels = new float[part.size() * numClasses];
      for (int i = 0; i < part.size(); i++) {
        List<Float> v = part.get(i).getList(0);
        for (int j = 0; j < d; j++) {
          features[i * d + j] = v.get(j);
        }
        labels[i * numClasses + part.get(i).getInt(1)] = 1f;
      }
      out.add(new DataSet(
          Nd4j.create(features, new long[] {part.size(), d}, DataType.FLOAT),
          Nd4j.create(labels, new long[] {part.size(), numClasses}, DataType.FLOAT)));
    }
    return out;
  }
}
