package io.bottleneck.ml;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.features.Featurizer;
import io.bottleneck.features.ImageView;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Images;
import io.bottleneck.io.Sha256;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.nets.Bases;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Bottleneck features of images as a Spark ML {@link Transformer}: the frozen base (built-in,
 * an ensemble {@code a+b}, or a base declared with {@link io.bottleneck.nets.DeclaredBases})
 * runs as batched inference on the executors, exactly as the CLI's featurize stage (the same
 * {@link Featurizer}, pooled networks, feature cache).
 *
 * <p>{@code inputCol} holds file URIs (string, any Hadoop file system) or the image bytes
 * (binary, e.g. the {@code content} of Spark's {@code binaryFile} source). {@code outputCol}
 * becomes an {@code org.apache.spark.ml.linalg.Vector}, so MLlib estimators consume it; with
 * {@code tta = flip} a second vector column {@code <outputCol>_flip} holds the features of the
 * mirrored image, which {@link DenseHeadClassificationModel} averages with (test-time
 * augmentation, as the CLI's {@code predict.tta}). Rows keep all their columns. An image that
 * cannot be read or decoded fails the transform ({@code handleInvalid = error}, naming it), is
 * dropped ({@code skip}), or kept with null features and its reason in {@code reasonCol}
 * ({@code keep}).
 *
 * <p>Eager like the CLI stage: {@code transform} computes the features of images not in the
 * cache (a Spark job) and returns a Dataset that reads them. Without {@code cacheDir} they go to
 * a temporary folder on the default file system, deleted when the JVM exits.
 */
public final class ImageFeaturizer extends Transformer implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;

  private final Param<String> inputCol;
  private final Param<String> outputCol;
  private final Param<String> base;
  private final Param<String> engine;
  private final IntParam batchSize;
  private final Param<String> cacheDir;
  private final Param<String> tta;
  private final Param<String> handleInvalid;
  private final Param<String> reasonCol;
  private final BooleanParam exifOrientation;

  public ImageFeaturizer(String uid) {
    this.uid = uid; // before the params: each param is owned by this uid
    inputCol = new Param<>(this, "inputCol",
      "column of image file URIs (string) or image bytes (binary)");
    outputCol = new Param<>(this, "outputCol", "output column of feature vectors");
    base = new Param<>(this, "base",
      "frozen base: a built-in id (" + String.join(", ", Bases.names()) + "), several joined by '+', or a declared base");
    engine = new Param<>(this, "engine",
      "inference engine of the built-in bases: " + String.join(", ", Bases.engines()),
      ParamValidators.inArray(Bases.engines().toArray(new String[0])));
    batchSize = new IntParam(this, "batchSize", "images per forward pass on an executor",
      ParamValidators.gtEq(1));
    cacheDir = new Param<>(this, "cacheDir",
      "feature cache root (any Hadoop URI), shared with the CLI; empty: a temporary folder");
    tta = new Param<>(this, "tta",
      "test-time augmentation: none, or flip (adds <outputCol>_flip, the mirrored image's features)",
      ParamValidators.inArray(new String[] {"none", "flip"}));
    handleInvalid = new Param<>(this, "handleInvalid",
      "images that cannot be read or decoded: error (fail naming the first), skip (drop the row),"
          + " keep (null features, the reason in reasonCol)",
      ParamValidators.inArray(new String[] {"error", "skip", "keep"}));
    reasonCol = new Param<>(this, "reasonCol",
      "with handleInvalid = keep: column of why an image has no features (null for the others)");
    exifOrientation = new BooleanParam(this, "exifOrientation",
      "turn JPEGs upright by their Exif orientation, as the CLI's ingest.exif-orientation");
    setDefault(inputCol, Columns.PATH);
    setDefault(outputCol, Columns.FEATURES);
    setDefault(base, Bases.DEFAULT);
    setDefault(engine, Bases.DEFAULT_ENGINE);
    setDefault(batchSize, 32);
    setDefault(cacheDir, "");
    setDefault(tta, "none");
    setDefault(handleInvalid, "error");
    setDefault(reasonCol, "invalid_reason");
    setDefault(exifOrientation, true);
  }

  public ImageFeaturizer() {
    this(Identifiable.randomUID("imageFeaturizer"));
  }

  @Override
  public String uid() {
    return uid;
  }

  public Param<String> inputCol() {
    return inputCol;
  }

  public Param<String> outputCol() {
    return outputCol;
  }

  public Param<String> base() {
    return base;
  }

  public Param<String> engine() {
    return engine;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public Param<String> cacheDir() {
    return cacheDir;
  }

  public Param<String> tta() {
    return tta;
  }

  public Param<String> handleInvalid() {
    return handleInvalid;
  }

  public Param<String> reasonCol() {
    return reasonCol;
  }

  public BooleanParam exifOrientation() {
    return exifOrientation;
  }

  public String getInputCol() {
    return $(inputCol);
  }

  public ImageFeaturizer setInputCol(String value) {
    set(inputCol, value);
    return this;
  }

  public String getOutputCol() {
    return $(outputCol);
  }

  public ImageFeaturizer setOutputCol(String value) {
    set(outputCol, value);
    return this;
  }

  public String getBase() {
    return $(base);
  }

  public ImageFeaturizer setBase(String value) {
    set(base, value);
    return this;
  }

  public String getEngine() {
    return $(engine);
  }

  public ImageFeaturizer setEngine(String value) {
    set(engine, value);
    return this;
  }

  public int getBatchSize() {
    return (Integer) $(batchSize);
  }

  public ImageFeaturizer setBatchSize(int value) {
    set(batchSize, value);
    return this;
  }

  public String getCacheDir() {
    return $(cacheDir);
  }

  public ImageFeaturizer setCacheDir(String value) {
    set(cacheDir, value);
    return this;
  }

  public String getTta() {
    return $(tta);
  }

  public ImageFeaturizer setTta(String value) {
    set(tta, value);
    return this;
  }

  public String getHandleInvalid() {
    return $(handleInvalid);
  }

  public ImageFeaturizer setHandleInvalid(String value) {
    set(handleInvalid, value);
    return this;
  }

  public String getReasonCol() {
    return $(reasonCol);
  }

  public ImageFeaturizer setReasonCol(String value) {
    set(reasonCol, value);
    return this;
  }

  public boolean getExifOrientation() {
    return (Boolean) $(exifOrientation);
  }

  public ImageFeaturizer setExifOrientation(boolean value) {
    set(exifOrientation, value);
    return this;
  }

  /** The column of the mirrored image's features, with {@code tta = flip}. */
  public String getFlipCol() {
    return getOutputCol() + "_flip";
  }

  @Override
  public StructType transformSchema(StructType schema) {
    String in = getInputCol();
    if (!List.of(schema.fieldNames()).contains(in)) {
      throw new IllegalArgumentException("Input column " + in + " does not exist. Available: "
          + String.join(", ", schema.fieldNames()));
    }
    DataType type = schema.apply(in).dataType();
    if (!(type instanceof StringType) && !(type instanceof BinaryType)) {
      throw new IllegalArgumentException("Column " + in + " must be of type string (file URIs) or binary (image"
          + " bytes) but was actually " + type.catalogString() + ".");
    }
    Bases.parseSpec(getBase()); // names the unknown base
    List<String> added = new ArrayList<>(List.of(getOutputCol()));
    if (getTta().equals("flip")) {
      added.add(getFlipCol());
    }
    if (getHandleInvalid().equals("keep")) {
      added.add(getReasonCol());
    }
    StructType out = schema;
    for (String name : added) {
      if (List.of(out.fieldNames()).contains(name)) {
        throw new IllegalArgumentException("Output column " + name + " already exists.");
      }
      out = out.add(name, name.equals(getReasonCol()) ? DataTypes.StringType : SQLDataTypes.VectorType(), true);
    }
    return out;
  }

  /** Hidden columns of the transform, removed before it returns. */
  private static final String HASH = "__bottleneck_content_hash";
  private static final String REASON = "__bottleneck_reason";

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType outSchema = transformSchema(dataset.schema());
    SparkSession spark = dataset.sparkSession();
    boolean binary = dataset.schema().apply(getInputCol()).dataType() instanceof BinaryType;
    Dataset<Row> checked = check(dataset.toDF(), binary).persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
    try {
      Dataset<Row> invalid = checked.where(col(REASON).isNotNull());
      if (getHandleInvalid().equals("error")) {
        List<Row> first = invalid.select(binary ? col(HASH) : col(getInputCol()), col(REASON)).limit(3).collectAsList();
        if (!first.isEmpty()) {
          throw new IllegalArgumentException("ImageFeaturizer: " + invalid.count() + " image(s) of column "
              + getInputCol() + " cannot be featurized, e.g. " + first.stream()
              .map(r -> (binary ? "bytes with SHA-256 " : "") + r.get(0) + ": " + r.get(1)).toList()
              + "; set handleInvalid to skip or keep to go on without them");
        }
      }
      Dataset<Row> valid = checked.where(col(REASON).isNull());
      // the featurizer's own input: one row per distinct image, by the names it knows
      Dataset<Row> images = (binary
          ? valid.select(concat(lit("bytes:sha256:"), col(HASH)).as(Columns.PATH), col(HASH).as(Columns.CONTENT_HASH),
              col(getInputCol()).as(Columns.CONTENT))
          : valid.select(col(getInputCol()).as(Columns.PATH), col(HASH).as(Columns.CONTENT_HASH)))
          .dropDuplicates(Columns.CONTENT_HASH);
      String cache = cacheRoot(spark);
      Dataset<Row> byHash = features(spark, images, ImageView.ORIGINAL, cache, getOutputCol());
      if (getTta().equals("flip")) {
        Dataset<Row> flip = features(spark, images, ImageView.FLIP, cache, getFlipCol());
        byHash = byHash.join(flip, Columns.CONTENT_HASH);
      }
      byHash = byHash.withColumnRenamed(Columns.CONTENT_HASH, HASH);
      Dataset<Row> featured = valid.join(byHash, HASH);
      if (getHandleInvalid().equals("keep")) {
        Dataset<Row> kept = invalid.withColumn(getOutputCol(), lit(null).cast(SQLDataTypes.VectorType()));
        if (getTta().equals("flip")) {
          kept = kept.withColumn(getFlipCol(), lit(null).cast(SQLDataTypes.VectorType()));
        }
        featured = featured.withColumn(REASON, lit(null).cast(DataTypes.StringType)).unionByName(kept);
        featured = featured.withColumnRenamed(REASON, getReasonCol());
      } else {
        featured = featured.drop(REASON);
      }
      List<org.apache.spark.sql.Column> ordered = new ArrayList<>();
      for (StructField f : outSchema.fields()) {
        ordered.add(col(f.name()));
      }
      return featured.select(ordered.toArray(new org.apache.spark.sql.Column[0]));
    } finally {
      checked.unpersist(false);
    }
  }

  /** content_hash → the Vector column {@code name} of the images' features in a view. */
  private Dataset<Row> features(SparkSession spark, Dataset<Row> images, ImageView view, String cache, String name) {
    // closed at once: what it persisted is freed; the returned rows read the written features
    try (Featurizer.Result result = Featurizer.featurize(spark, images, getBase(), getEngine(), view, cache,
        getBatchSize(), 0, getExifOrientation())) {
      return result.featured()
          .select(col(Columns.CONTENT_HASH), org.apache.spark.ml.functions.array_to_vector(col(Columns.FEATURES)).as(name))
          .dropDuplicates(Columns.CONTENT_HASH);
    }
  }

  private String cacheRoot(SparkSession spark) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    if (!getCacheDir().isEmpty()) {
      return HadoopFiles.qualify(getCacheDir(), conf);
    }
    String tmp = HadoopFiles.qualify("/tmp/bottleneck-ml-features-" + UUID.randomUUID(), conf);
    try {
      Path p = new Path(tmp);
      FileSystem fs = p.getFileSystem(conf);
      fs.mkdirs(p);
      fs.deleteOnExit(p);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot create a temporary feature cache at " + tmp, e);
    }
    return tmp;
  }

  /** The input rows with the image's SHA-256 and why it cannot be featurized (null when it can). */
  private Dataset<Row> check(Dataset<Row> input, boolean binary) {
    StructType schema = input.schema().add(HASH, DataTypes.StringType, true).add(REASON, DataTypes.StringType, true);
    int column = input.schema().fieldIndex(getInputCol());
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(input.sparkSession().sparkContext());
    Broadcast<io.bottleneck.io.SerializableHadoopConf> conf =
        jsc.broadcast(new io.bottleneck.io.SerializableHadoopConf(input.sparkSession().sparkContext().hadoopConfiguration()));
    boolean exif = getExifOrientation();
    // a static method: the function must not capture this stage
    MapPartitionsFunction<Row, Row> checker = rows -> checkRows(rows, column, binary, conf.value().get(), exif);
    return input.mapPartitions(checker, Encoders.row(schema));
  }

  private static Iterator<Row> checkRows(Iterator<Row> rows, int column, boolean binary, Configuration hadoop,
      boolean exif) {
    MessageDigest sha256 = Sha256.digest();
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        Row row = rows.next();
        Object[] values = new Object[row.size() + 2];
        for (int i = 0; i < row.size(); i++) {
          values[i] = row.get(i);
        }
        String[] checked = checkImage(row, column, binary, hadoop, sha256, exif);
        values[row.size()] = checked[0];
        values[row.size() + 1] = checked[1];
        return RowFactory.create(values);
      }
    };
  }

  /** {hash, reason}: the image's SHA-256 (null if unreadable) and why it cannot be used (null if it can). */
  private static String[] checkImage(Row row, int column, boolean binary, Configuration conf, MessageDigest sha256,
      boolean exif) {
    if (row.isNullAt(column)) {
      return new String[] {null, "null " + (binary ? "image bytes" : "path")};
    }
    byte[] bytes;
    String name;
    if (binary) {
      bytes = (byte[]) row.get(column);
      name = "bytes";
    } else {
      name = row.getString(column);
      Path file = new Path(name);
      try (FSDataInputStream in = file.getFileSystem(conf).open(file)) {
        bytes = in.readAllBytes();
      } catch (java.io.FileNotFoundException e) {
        return new String[] {null, "file not found"};
      } catch (IOException | IllegalArgumentException e) {
        return new String[] {null, "cannot read: " + e.getMessage()};
      }
    }
    String hash = Sha256.hex(sha256, bytes);
    if (bytes.length == 0) {
      return new String[] {hash, "empty file"};
    }
    try {
      Images.decodedSize(bytes, name, exif);
      return new String[] {hash, null};
    } catch (UndecodableImageException e) {
      return new String[] {hash, e.reason()};
    }
  }

  @Override
  public ImageFeaturizer copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  public static MLReader<ImageFeaturizer> read() {
    return new DefaultParamsReader<>();
  }

  public static ImageFeaturizer load(String path) {
    return read().load(path);
  }
}
