package io.bottleneck.split;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import io.bottleneck.io.Sha256;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Spliterators;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Stratified, seeded train/validation(/test) split, like scikit-learn's
 * {@code train_test_split(test_size=..., random_state=..., stratify=y)}.
 *
 * <p><b>Unit of splitting.</b> Distinct content ({@code content_hash}): all copies of an image go
 * to the same side, so duplicates never leak from training into evaluation. Content filed under
 * two labels is counted under its alphabetically first label and still kept together.
 *
 * <p><b>How many.</b> A size in (0, 1) is a fraction, a whole number >= 1 an absolute count.
 * Exactly sklearn's {@code StratifiedShuffleSplit} arithmetic: held out = {@code ceil(size * n)};
 * train per class = the largest-remainder share of {@code n - held out} (sklearn's
 * {@code _approximate_mode}), held out per class = the rest, so the per-class numbers sum to
 * the total exactly. Ties between equal remainders, which sklearn breaks at random, go to the
 * alphabetically first label. With a test side, test per class is the largest-remainder share of
 * what is not train (sklearn's second step), validation the rest.
 *
 * <p><b>Deviations from sklearn.</b> sklearn refuses a class with one member; here a class with
 * a single distinct image goes entirely to train and is left out of {@code n}. sklearn also
 * refuses a held-out side smaller than the number of classes; here that only logs a warning
 * (some classes then have no held-out image).
 *
 * <p><b>Which ones.</b> Within a class, images are ordered by SHA-256 of {@code "seed:hash"}
 * (ties by hash), and the first ones are held out: the same seed and content give the same split
 * whatever the partitioning or row order of the input.
 *
 * <p>The input is read twice (class counts, then the result): persist it if it is expensive or
 * not deterministic. {@link #splitWithCounts} also returns what the class counts already tell
 * (rows and distinct images per split and class, duplicates), so callers need no second pass
 * over the result to report them.
 */
public final class StratifiedSplit {
  private StratifiedSplit() {}

  private static final Logger LOG = LoggerFactory.getLogger(StratifiedSplit.class);

  public static final String TRAIN = "train";
  public static final String VALIDATION = "validation";
  public static final String TEST = "test";

  /**
   * Adds a {@code split} column, "train" or "validation".
   *
   * @param testSize share held out as "validation": a fraction in (0, 1) or a whole count >= 1
   */
  public static Dataset<Row> split(Dataset<Row> images, double testSize, long seed) {
    return splitWithCounts(images, testSize, seed).rows();
  }

  /** As {@link #split(Dataset, double, long)}, with the counts the split computed on the way. */
  public static SplitResult splitWithCounts(Dataset<Row> images, double testSize, long seed) {
    return split3(images, "testSize", testSize, "testSize", 0, seed);
  }

  /**
   * Adds a {@code split} column, "train", "validation" or "test".
   *
   * @param validationSize a fraction in (0, 1) or a whole count >= 1
   * @param testSize a fraction in (0, 1), a whole count >= 1, or 0 for no test side
   */
  public static Dataset<Row> split(
      Dataset<Row> images, double validationSize, double testSize, long seed) {
    return split3(images, "validationSize", validationSize, "testSize", testSize, seed).rows();
  }

  private static SplitResult split3(
      Dataset<Row> images,
      String validationName,
      double validationSize,
      String testName,
      double testSize,
      long seed) {
    StructType schema = images.schema();
    Schemas.requireColumn(schema, Columns.LABEL, DataTypes.StringType);
    Schemas.requireColumn(schema, Columns.CONTENT_HASH, DataTypes.StringType);
    Schemas.requireAbsent(schema, Columns.SPLIT);
    checkSize(validationName, validationSize, false);
    checkSize(testName, testSize, true);

    // One job (an RDD pass: a query's aggregations took a job per exchange here): distinct
    // contents, each under its first label, counted per class, with the null checks and the
    // duplicate counts folded in. The assignment reads the same distinct contents, whose shuffle
    // Spark then does not redo.
    JavaPairRDD<String, Unit> units = UnitCounts.units(images);
    UnitCounts counts = UnitCounts.of(units);
    Map<String, Long> classCounts = counts.perLabel;
    if (counts.nullLabels > 0) {
      throw new IllegalArgumentException(
          "Column label has " + counts.nullLabels + " null values; split needs labeled images");
    }
    if (counts.nullHashes > 0) {
      throw new IllegalArgumentException(
          "Column content_hash has " + counts.nullHashes
              + " null values; split needs the content hash that ingest computes");
    }
    if (counts.conflicting > 0) {
      LOG.warn(
          "{} distinct images carry more than one label; each is split under its first label",
          counts.conflicting);
    }

    Map<String, long[]> heldOut =
        allocate(classCounts, validationName, validationSize, testName, testSize);
    int partitions = images.rdd().getNumPartitions();
    JavaPairRDD<String, String> assigned = assign(units, new TreeMap<>(heldOut), seed, partitions);

    // Every image has exactly one assigned unit; the output keeps the input's columns in order
    // and adds split at the end.
    int hash = schema.fieldIndex(Columns.CONTENT_HASH);
    JavaRDD<Row> rows =
        images.javaRDD()
            .mapToPair(r -> new Tuple2<>(r.getString(hash), r))
            .join(assigned, partitions)
            .values()
            .map(joined -> {
              Row r = joined._1();
              Object[] values = new Object[r.size() + 1];
              for (int i = 0; i < r.size(); i++) {
                values[i] = r.get(i);
              }
              values[r.size()] = joined._2();
              return RowFactory.create(values);
            });
    Dataset<Row> result =
        images.sparkSession().createDataFrame(rows, schema.add(Columns.SPLIT, DataTypes.StringType, false));
    return new SplitResult(result, distinctPerSplit(classCounts, heldOut), counts.duplicateGroups, counts.duplicateFiles, counts.conflicting);
  }

  /**
   * Content hash → split of every distinct content: within its class, contents in the order of
   * SHA-256 of "seed:hash" (hex, ties by hash), the first {@code n_test} to test, the next {@code
   * n_validation} to validation, the rest to train. Each class is sorted within one partition,
   * as a window partitioned by label would; as RDD operations the whole split is one job with
   * no generated code, where the query it replaces planned five under adaptive execution and
   * generated ~35 classes, the larger part of the split's time on small inputs.
   */
  private static JavaPairRDD<String, String> assign(
      JavaPairRDD<String, Unit> units, TreeMap<String, long[]> heldOut, long seed, int maxPartitions) {
    List<String> labels = new ArrayList<>(heldOut.keySet());
    LabelPartitioner byLabel = new LabelPartitioner(labels, Math.max(1, Math.min(labels.size(), maxPartitions)));
    String prefix = seed + ":";
    return units
        .mapPartitionsToPair(it -> {
          MessageDigest sha256 = Sha256.digest();
          return StreamSupport.stream(Spliterators.spliteratorUnknownSize(it, 0), false)
              .map(u -> new Tuple2<>(
                  new OrderKey(u._2().label, Sha256.hex(sha256, (prefix + u._1()).getBytes(StandardCharsets.UTF_8)), u._1()),
                  Boolean.TRUE))
              .iterator();
        })
        .repartitionAndSortWithinPartitions(byLabel, OrderKey.ORDER)
        .mapPartitionsToPair(sorted -> new Ranks(sorted, heldOut));
  }

  /** Walks one partition's contents in class order and assigns each its split by its rank. */
  private static final class Ranks implements Iterator<Tuple2<String, String>> {
    private final Iterator<Tuple2<OrderKey, Boolean>> sorted;
    private final Map<String, long[]> heldOut;
    private String label;
    private long[] held;
    private long rank;

    Ranks(Iterator<Tuple2<OrderKey, Boolean>> sorted, Map<String, long[]> heldOut) {
      this.sorted = sorted;
      this.heldOut = heldOut;
    }

    @Override
    public boolean hasNext() {
      return sorted.hasNext();
    }

    @Override
    public Tuple2<String, String> next() {
      OrderKey key = sorted.next()._1();
      if (!key.label.equals(label)) {
        label = key.label;
        held = heldOut.get(label);
        rank = 0;
      }
      rank++;
      String split = rank <= held[1] ? TEST : rank <= held[1] + held[0] ? VALIDATION : TRAIN;
      return new Tuple2<>(key.hash, split);
    }
  }

  /**
   * A distinct content's place in its class: label, then order, then hash. A class, not a
   * record: Spark's Kryo cannot build a serializer for records.
   */
  private static final class OrderKey implements Serializable {
    private static final long serialVersionUID = 1L;
    final String label;
    final String order;
    final String hash;

    OrderKey(String label, String order, String hash) {
      this.label = label;
      this.order = order;
      this.hash = hash;
    }

    static final Comparator<OrderKey> ORDER =
        (Comparator<OrderKey> & Serializable)
            (a, b) -> {
              int c = a.label.compareTo(b.label);
              if (c == 0) {
                c = a.order.compareTo(b.order);
              }
              return c != 0 ? c : a.hash.compareTo(b.hash);
            };
  }

  /** All contents of a class in one partition: classes dealt out over the partitions in label order. */
  private static final class LabelPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final Map<String, Integer> index = new HashMap<>();
    private final int partitions;

    LabelPartitioner(List<String> labels, int partitions) {
      for (int i = 0; i < labels.size(); i++) {
        index.put(labels.get(i), i);
      }
      this.partitions = partitions;
    }

    @Override
    public int numPartitions() {
      return partitions;
    }

    @Override
    public int getPartition(Object key) {
      return index.get(((OrderKey) key).label) % partitions;
    }
  }

  /** Split name → label → distinct images, from the class counts and their allocation. */
  private static Map<String, Map<String, Long>> distinctPerSplit(
      Map<String, Long> classCounts, Map<String, long[]> heldOut) {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    classCounts.forEach(
        (label, n) -> {
          long[] held = heldOut.get(label);
          out.computeIfAbsent(TRAIN, k -> new TreeMap<>()).put(label, n - held[0] - held[1]);
          if (held[0] > 0) {
            out.computeIfAbsent(VALIDATION, k -> new TreeMap<>()).put(label, held[0]);
          }
          if (held[1] > 0) {
            out.computeIfAbsent(TEST, k -> new TreeMap<>()).put(label, held[1]);
          }
        });
    return out;
  }

  /** One distinct content: its first (smallest) label, whether it has another, its rows. */
  private static final class Unit implements Serializable {
    private static final long serialVersionUID = 1L;
    String label;
    boolean conflicting;
    long nullLabels;
    long rows;

    static Unit of(String label) {
      Unit u = new Unit();
      u.label = label;
      u.nullLabels = label == null ? 1 : 0;
      u.rows = 1;
      return u;
    }

    /** Adds {@code o} into this one (each row's Unit is its own: no copy per merged row). */
    Unit plus(Unit o) {
      conflicting = conflicting || o.conflicting || (label != null && o.label != null && !label.equals(o.label));
      label = label == null ? o.label : o.label == null || label.compareTo(o.label) <= 0 ? label : o.label;
      nullLabels += o.nullLabels;
      rows += o.rows;
      return this;
    }
  }

  /** What the split needs to know of the distinct contents, over all of them. */
  static final class UnitCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Distinct contents per first label (contents without a label are not counted). */
    final TreeMap<String, Long> perLabel = new TreeMap<>();
    long conflicting;
    long nullLabels;
    long nullHashes;
    long duplicateGroups;
    long duplicateFiles;

    /** Distinct content hash (null for rows without one) → its {@link Unit}. */
    static JavaPairRDD<String, Unit> units(Dataset<Row> images) {
      int hash = images.schema().fieldIndex(Columns.CONTENT_HASH);
      int label = images.schema().fieldIndex(Columns.LABEL);
      return images.javaRDD()
          .mapToPair(r -> new Tuple2<>(r.isNullAt(hash) ? null : r.getString(hash), Unit.of(r.isNullAt(label) ? null : r.getString(label))))
          .reduceByKey(Unit::plus);
    }

    static UnitCounts of(JavaPairRDD<String, Unit> units) {
      return units.aggregate(new UnitCounts(), UnitCounts::add, UnitCounts::plus);
    }

    private UnitCounts add(Tuple2<String, Unit> keyed) {
      Unit u = keyed._2();
      if (u.label != null) {
        perLabel.merge(u.label, 1L, Long::sum);
      }
      conflicting += u.conflicting ? 1 : 0;
      nullLabels += u.nullLabels;
      nullHashes += keyed._1() == null ? u.rows : 0;
      duplicateGroups += u.rows > 1 ? 1 : 0;
      duplicateFiles += u.rows - 1;
      return this;
    }

    private UnitCounts plus(UnitCounts o) {
      o.perLabel.forEach((k, v) -> perLabel.merge(k, v, Long::sum));
      conflicting += o.conflicting;
      nullLabels += o.nullLabels;
      nullHashes += o.nullHashes;
      duplicateGroups += o.duplicateGroups;
      duplicateFiles += o.duplicateFiles;
      return this;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Allocation: how many of each class go where (driver side, on class counts only)

  /**
   * Per class {validation, test} counts of distinct images. Classes with one distinct image get
   * {0, 0}. {@code testSize} 0 means no test side.
   */
  static Map<String, long[]> allocate(
      Map<String, Long> classCounts,
      String validationName,
      double validationSize,
      String testName,
      double testSize) {
    List<String> labels =
        classCounts.keySet().stream().sorted().collect(Collectors.toList());
    List<String> splittable =
        labels.stream().filter(l -> classCounts.get(l) > 1).collect(Collectors.toList());
    long n = splittable.stream().mapToLong(classCounts::get).sum();
    if (n == 0) {
      throw new IllegalArgumentException(
          "No class has two or more distinct images, nothing to split ("
              + labels.size() + " classes)");
    }
    long nValidation = heldOut(validationName, validationSize, n);
    long nTest = testSize == 0 ? 0 : heldOut(testName, testSize, n);
    long nTrain = n - nValidation - nTest;
    if (nTrain <= 0) {
      String what = nTest == 0
          ? validationName + " " + fmt(validationSize) + " holds out " + nValidation
          : validationName + " " + fmt(validationSize) + " and " + testName + " " + fmt(testSize)
              + " hold out " + nValidation + " + " + nTest;
      throw new IllegalArgumentException(
          what + " of " + n + " distinct images, leaving none for training");
    }
    long[] counts = splittable.stream().mapToLong(classCounts::get).toArray();
    long[] train = approximateMode(counts, nTrain);
    long[] rest = IntStream.range(0, counts.length).mapToLong(i -> counts[i] - train[i]).toArray();
    long[] test = approximateMode(rest, nTest);

    Map<String, long[]> result = new TreeMap<>();
    for (String label : labels) {
      result.put(label, new long[] {0, 0});
    }
    long emptyClasses = 0;
    for (int i = 0; i < counts.length; i++) {
      long[] held = {rest[i] - test[i], test[i]};
      result.put(splittable.get(i), held);
      if (held[0] == 0 || (nTest > 0 && held[1] == 0)) {
        emptyClasses++;
      }
    }
    if (emptyClasses > 0) {
      LOG.warn(
          "{} of {} classes get no validation or no test image: held-out sides are smaller "
              + "than the number of classes",
          emptyClasses, counts.length);
    }
    return result;
  }

  /**
   * sklearn's {@code _approximate_mode}: floor of each class's share of {@code draws}, plus one
   * for the classes with the largest remainders until the sum is {@code draws}. Same double
   * arithmetic as numpy, so the same answer; ties go to the lower index.
   */
  static long[] approximateMode(long[] counts, long draws) {
    long total = Arrays.stream(counts).sum();
    long[] out = new long[counts.length];
    if (draws == 0) {
      return out;
    }
    double[] remainder = new double[counts.length];
    long floored = 0;
    for (int i = 0; i < counts.length; i++) {
      double continuous = (double) counts[i] / total * draws;
      out[i] = (long) Math.floor(continuous);
      remainder[i] = continuous - out[i];
      floored += out[i];
    }
    long need = draws - floored;
    if (need < 0 || need > counts.length) {
      throw new IllegalStateException(
          "Cannot apportion " + draws + " over " + Arrays.toString(counts));
    }
    Integer[] order = IntStream.range(0, counts.length).boxed().toArray(Integer[]::new);
    // Stable sort: equal remainders keep index (= label) order.
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> remainder[i]).reversed());
    for (int k = 0; k < need; k++) {
      out[order[k]]++;
    }
    return out;
  }

  /** sklearn's {@code _validate_shuffle_split}: ceil(size * n) for a fraction, else the count. */
  private static long heldOut(String name, double size, long n) {
    long k = size < 1 ? (long) Math.ceil(size * n) : (long) size;
    if (size >= 1 && k >= n) {
      throw new IllegalArgumentException(
          name + " " + fmt(size) + " must be smaller than the number of distinct images in "
              + "classes with two or more of them, " + n);
    }
    return k;
  }

  private static void checkSize(String name, double size, boolean zeroAllowed) {
    boolean fraction = size > 0 && size < 1;
    boolean count = size >= 1 && size == Math.rint(size) && size <= Long.MAX_VALUE;
    if (!(fraction || count || (zeroAllowed && size == 0))) {
      throw new IllegalArgumentException(
          name + " must be a fraction in (0, 1) or a whole number of images >= 1"
              + (zeroAllowed ? ", or 0 for none" : "") + ", but was " + fmt(size));
    }
  }

  private static String fmt(double size) {
    return size == Math.rint(size) && !Double.isInfinite(size)
        ? Long.toString((long) size)
        : Double.toString(size);
  }
}
