package io.bottleneck.features;

import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.SerializableHadoopConf;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ImageBase;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs on an executor: reads each image file by path and pushes fixed-size mini-batches of
 * files through the base, which decodes and preprocesses them
 * ({@link ImageBase#featurizeFiles}). Input rows are (path, content_hash); output rows
 * (content_hash, features of the {@link ImageView view}), one per distinct hash of the
 * partition (a copy of an image already
 * seen is skipped: the featurizer partitions by hash, so all copies meet in one partition).
 * Lazy, so a partition never holds more than one batch of files and network inputs.
 */
final class FeaturizePartition implements MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FeaturizePartition.class);
  private final String baseId;
  private final String engine;
  /** The declaration of a declared base (null for a built-in one): executors register it. */
  private final BaseDeclaration declared;
  private final ModelShipment weights;
  private final Broadcast<SerializableHadoopConf> conf;
  private final int batchSize;
  private final ImageView view;
  private final boolean exifOrientation;
  private final LongAccumulator done;

  FeaturizePartition(
      String baseId,
      String engine,
      BaseDeclaration declared,
      ModelShipment weights,
      Broadcast<SerializableHadoopConf> conf,
      int batchSize,
      ImageView view,
      boolean exifOrientation,
      LongAccumulator done) {
    this.baseId = baseId;
    this.engine = engine;
    this.declared = declared;
    this.weights = weights;
    this.conf = conf;
    this.batchSize = batchSize;
    this.view = view;
    this.exifOrientation = exifOrientation;
    this.done = done;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    Configuration hadoopConf = conf.value().get();
    if (declared != null) {
      DeclaredBases.register(declared); // the model arrives with the weights shipment
    }
    return new Iterator<>() {
      private final List<Row> out = new ArrayList<>();
      private final Set<String> seen = new HashSet<>();
      private int next;
      private ImageBase base;
      private int featurized;

      @Override
      public boolean hasNext() {
        if (next < out.size()) {
          return true;
        }
        out.clear();
        next = 0;
        if (rows.hasNext()) {
          fillBatch(); // empty only if the rest of the input was copies already computed
        }
        if (out.isEmpty() && base != null) {
          BasePool.giveBack(base);
          base = null;
          // On the executor's log: where each partition ran (the cluster tests check that
          // featurization ran on every worker) and how much it did.
          LOG.info("featurize partition {} (attempt {}) on executor {}: {} images", partitionId(), attempt(), executorId(), featurized);
        }
        return next < out.size();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return out.get(next++);
      }

      private void fillBatch() {
        List<String> hashes = new ArrayList<>(batchSize);
        List<String> paths = new ArrayList<>(batchSize);
        List<byte[]> files = new ArrayList<>(batchSize);
        while (rows.hasNext() && files.size() < batchSize) {
          Row row = rows.next();
          String hash = row.getString(1);
          if (seen.add(hash)) {
            String path = row.getString(0);
            files.add(row.size() > 2 && !row.isNullAt(2) ? (byte[]) row.get(2) : read(path, hadoopConf));
            paths.add(path);
            hashes.add(hash);
          }
        }
        if (files.isEmpty()) {
          return;
        }
        if (base == null) {
          LOG.info("featurize partition {} (attempt {}) started on executor {}", partitionId(), attempt(), executorId());
          base = BasePool.borrow(baseId, engine, () -> weights.weights(hadoopConf));
        }
        float[][] features = featurize(base, files, paths, view, exifOrientation, hashes);
        featurized += features.length;
        done.add(features.length);
        for (int i = 0; i < features.length; i++) {
          out.add(RowFactory.create(hashes.get(i), features[i]));
        }
      }
    };
  }

  private static int partitionId() {
    TaskContext task = TaskContext.get();
    return task == null ? -1 : task.partitionId();
  }

  private static int attempt() {
    TaskContext task = TaskContext.get();
    return task == null ? 0 : task.attemptNumber();
  }

  private static String executorId() {
    SparkEnv env = SparkEnv.get();
    return env == null ? "none" : env.executorId();
  }

  private static byte[] read(String path, Configuration conf) {
    try {
      return HadoopFiles.readBytes(path, conf);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read image " + path + ": " + e.getMessage(), e);
    }
  }

  private static float[][] featurize(
      ImageBase base, List<byte[]> files, List<String> paths, ImageView view, boolean exifOrientation,
      List<String> hashes) {
    try {
      return view.featurizeFiles(base, files, paths, hashes, exifOrientation);
    } catch (UndecodableImageException e) {
      // ingest accepted it, so the file changed in between: fail rather than cache garbage
      throw new IllegalStateException("Image " + e.name() + " was accepted at ingest but no"
          + " longer decodes: " + e.reason(), e);
    }
  }
}
