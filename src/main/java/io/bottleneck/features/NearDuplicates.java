package io.bottleneck.features;

import static org.apache.spark.sql.functions.col;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Near-duplicates across splits: a held-out image (validation or test) and a training image
 * that are different files (different content hashes; identical files are {@code DataQuality}'s
 * leakage) but whose bottleneck features point the same way, cosine similarity at least
 * {@code minSimilarity}. Re-encoded, resized or lightly edited copies and burst shots of the
 * same scene land there; validation then partly measures memory. Measured on cats vs dogs
 * (MobileNet 0.25 and SqueezeNet 1.1 features): a resized, re-encoded copy scores 0.97-0.99, an
 * image and its own mirror image 0.91-0.97, the closest pair of different photos 0.88-0.92.
 *
 * <p>Computed on the executors: each side is cut into blocks of {@value #BLOCK_ROWS} L2-normalised
 * rows, every (train block, held-out block) pair is one matrix product, and only pairs at or
 * above the threshold leave the task. The driver receives counts and the top examples, never
 * the features.
 *
 * @param minSimilarity the threshold used
 * @param pairs (held-out image, training image) pairs at or above it
 * @param heldOutImages distinct held-out images with at least one such training image
 * @param examples the most similar pairs, most similar first
 */
public record NearDuplicates(double minSimilarity, long pairs, long heldOutImages, List<Pair> examples) {

  static final int BLOCK_ROWS = 1024;

  /**
   * One held-out image and a training image too similar to it. A class, not a record: Spark's
   * Kryo (4.x) cannot build a serializer for records, and pairs travel between tasks and the driver.
   */
  public static final class Pair implements Serializable {
    private final String heldOutPath;
    private final String heldOutSplit;
    private final String trainPath;
    private final double similarity;

    public Pair(String heldOutPath, String heldOutSplit, String trainPath, double similarity) {
      this.heldOutPath = heldOutPath;
      this.heldOutSplit = heldOutSplit;
      this.trainPath = trainPath;
      this.similarity = similarity;
    }

    public String heldOutPath() {
      return heldOutPath;
    }

    public String heldOutSplit() {
      return heldOutSplit;
    }

    public String trainPath() {
      return trainPath;
    }

    public double similarity() {
      return similarity;
    }

    @Override
    public String toString() {
      return heldOutSplit + ": " + heldOutPath + " ~ train: " + trainPath + " (" + similarity + ")";
    }
  }

  /**
   * Compares the features of every held-out row with every training row of {@code featured}
   * (path, content_hash, split, features; with a view column only view = original counts).
   */
  public static NearDuplicates find(Dataset<Row> featured, double minSimilarity, int examples) {
    return find(featured, minSimilarity, examples, BLOCK_ROWS);
  }

  /** As above, with blocks of at most {@code blockRows} rows (tests use small blocks). */
  static NearDuplicates find(Dataset<Row> featured, double minSimilarity, int examples, int blockRows) {
    Schemas.requireColumn(featured.schema(), Columns.PATH, DataTypes.StringType);
    Schemas.requireColumn(featured.schema(), Columns.CONTENT_HASH, DataTypes.StringType);
    Schemas.requireColumn(featured.schema(), Columns.SPLIT, DataTypes.StringType);
    Schemas.requireColumn(featured.schema(), Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType));
    if (!(minSimilarity > 0 && minSimilarity <= 1)) {
      throw new IllegalArgumentException("minSimilarity must be in (0, 1], not " + minSimilarity);
    }
    Dataset<Row> rows = featured;
    if (Schemas.hasColumn(rows.schema(), Columns.VIEW)) {
      rows = rows.where(col(Columns.VIEW).equalTo("original"));
    }
    rows = rows.select(Columns.PATH, Columns.CONTENT_HASH, Columns.SPLIT, Columns.FEATURES);
    int parallelism = Math.max(1, rows.sparkSession().sparkContext().defaultParallelism());
    // train x held-out tasks: the larger side spread over the cores, the held-out side over 2
    JavaRDD<Block> train = blocks(rows.where(col(Columns.SPLIT).equalTo("train")), parallelism, blockRows);
    JavaRDD<Block> heldOut = blocks(rows.where(col(Columns.SPLIT).notEqual("train")), 2, blockRows);
    float threshold = (float) minSimilarity;
    JavaRDD<Pair> pairs = null;
    try {
      // materialise both sides first: otherwise the cartesian's concurrent tasks each compute
      // the same uncached parent partition (and Spark logs "Block ... already exists"); one
      // job for both
      train.union(heldOut).count();
      pairs = train.cartesian(heldOut).flatMap(t -> similarPairs(t._1(), t._2(), threshold).iterator())
          .persist(StorageLevel.MEMORY_AND_DISK());
      long pairCount = pairs.count();
      if (pairCount == 0) {
        return new NearDuplicates(minSimilarity, 0, 0, List.of());
      }
      long images = pairs.map(Pair::heldOutPath).distinct().count();
      List<Pair> top = pairs.takeOrdered(examples, new MostSimilarFirst());
      return new NearDuplicates(minSimilarity, pairCount, images, List.copyOf(top));
    } finally {
      if (pairs != null) {
        pairs.unpersist(false);
      }
      train.unpersist(false);
      heldOut.unpersist(false);
    }
  }

  /** What a user must hear about: held-out images with a near-copy in the training split. */
  public List<String> warnings() {
    if (heldOutImages == 0) {
      return List.of();
    }
    Pair first = examples.get(0);
    return List.of(String.format(Locale.ROOT,
        "%d held-out image(s) have a near-duplicate in the training split (different files, cosine similarity of their "
            + "features >= %.2f, key quality.near-duplicates.min-similarity): validation metrics may be optimistic. "
            + "Most similar: %s ~ %s (%.4f)",
        heldOutImages, minSimilarity, first.heldOutPath(), first.trainPath(), first.similarity()));
  }

  /** For summary.json. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("min_similarity", minSimilarity);
    m.put("pairs", pairs);
    m.put("held_out_images", heldOutImages);
    List<Map<String, Object>> list = new ArrayList<>();
    for (Pair p : examples) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("held_out", p.heldOutPath());
      e.put("split", p.heldOutSplit());
      e.put("train", p.trainPath());
      e.put("similarity", p.similarity());
      list.add(e);
    }
    m.put("examples", list);
    return m;
  }

  /** L2-normalised feature rows (row-major) with their paths, hashes and splits; a class for Kryo, as {@link Pair}. */
  static final class Block implements Serializable {
    final String[] paths;
    final String[] hashes;
    final String[] splits;
    final float[] rows;
    final int dim;

    Block(String[] paths, String[] hashes, String[] splits, float[] rows, int dim) {
      this.paths = paths;
      this.hashes = hashes;
      this.splits = splits;
      this.rows = rows;
      this.dim = dim;
    }

    int size() {
      return paths.length;
    }
  }

  private static JavaRDD<Block> blocks(Dataset<Row> rows, int partitions, int blockRows) {
    return rows.toJavaRDD()
        .coalesce(partitions)
        .mapPartitions(it -> toBlocks(it, blockRows))
        .persist(StorageLevel.MEMORY_AND_DISK_SER());
  }

  private static Iterator<Block> toBlocks(Iterator<Row> rows, int blockRows) {
    List<Block> blocks = new ArrayList<>();
    List<Row> pending = new ArrayList<>(blockRows);
    while (rows.hasNext()) {
      pending.add(rows.next());
      if (pending.size() == blockRows || !rows.hasNext()) {
        blocks.add(block(pending));
        pending.clear();
      }
    }
    return blocks.iterator();
  }

  static Block block(List<Row> rows) {
    int n = rows.size();
    int dim = rows.get(0).<Float>getList(3).size();
    String[] paths = new String[n];
    String[] hashes = new String[n];
    String[] splits = new String[n];
    float[] values = new float[n * dim];
    for (int i = 0; i < n; i++) {
      Row r = rows.get(i);
      paths[i] = r.getString(0);
      hashes[i] = r.getString(1);
      splits[i] = r.getString(2);
      List<Float> features = r.getList(3);
      if (features.size() != dim) {
        throw new IllegalArgumentException("Column " + Columns.FEATURES + " of " + paths[i] + " has " + features.size()
            + " values, the other rows " + dim);
      }
      double norm = 0;
      for (int j = 0; j < dim; j++) {
        float v = features.get(j);
        values[i * dim + j] = v;
        norm += (double) v * v;
      }
      // an all-zero vector has no direction: it stays zero and matches nothing
      float scale = norm > 0 ? (float) (1 / Math.sqrt(norm)) : 0f;
      for (int j = 0; j < dim; j++) {
        values[i * dim + j] *= scale;
      }
    }
    return new Block(paths, hashes, splits, values, dim);
  }

  /** Pairs of a row of {@code train} and a row of {@code heldOut} at or above the threshold, different files. */
  static List<Pair> similarPairs(Block train, Block heldOut, float threshold) {
    if (train.dim != heldOut.dim) {
      throw new IllegalArgumentException("Training features have " + train.dim + " values, held-out features " + heldOut.dim);
    }
    List<Pair> pairs = new ArrayList<>();
    // not closed: ND4J refuses to release arrays that wrap or view others; the GC frees them
    INDArray a = Nd4j.create(train.rows, new long[] {train.size(), train.dim}, 'c');
    INDArray b = Nd4j.create(heldOut.rows, new long[] {heldOut.size(), heldOut.dim}, 'c');
    float[] sims = a.mmul(b.transpose()).castTo(DataType.FLOAT).dup('c').data().asFloat();
    int m = heldOut.size();
    for (int i = 0; i < train.size(); i++) {
      for (int j = 0; j < m; j++) {
        float sim = sims[i * m + j];
        if (sim >= threshold && !train.hashes[i].equals(heldOut.hashes[j])) {
          // rounding can take a unit vector's self-similarity a hair above 1
          pairs.add(new Pair(heldOut.paths[j], heldOut.splits[j], train.paths[i], Math.min(1.0, sim)));
        }
      }
    }
    return pairs;
  }

  /** Highest similarity first; ties by held-out path, then training path, so the examples are deterministic. */
  static final class MostSimilarFirst implements Comparator<Pair>, Serializable {
    @Override
    public int compare(Pair x, Pair y) {
      int c = Double.compare(y.similarity(), x.similarity());
      if (c != 0) {
        return c;
      }
      c = x.heldOutPath().compareTo(y.heldOutPath());
      return c != 0 ? c : x.trainPath().compareTo(y.trainPath());
    }
  }
}
