package io.bottleneck.ml;

import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.bottleneck.io.Json;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.train.EpochStats;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained dense head as a Spark ML {@link Model}: {@code transform} adds the predicted class
 * index ({@code predictionCol}, double, as MLlib's classifiers), the class probabilities
 * ({@code probabilityCol}, a Vector in {@link #labels()} order) and the predicted class name
 * ({@code predictedLabelCol}). Scoring is the CLI's ({@link HeadScorer}: the head broadcast once,
 * fixed mini-batches per partition, rows keep their columns); with {@code useFlip} and a
 * {@code <featuresCol>_flip} column (ImageFeaturizer's {@code tta = flip}) the probabilities are
 * the mean over the image and its mirror. Rows with null features get null outputs.
 */
public final class DenseHeadClassificationModel extends Model<DenseHeadClassificationModel> implements MLWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final MultiLayerNetwork network;
  private final List<String> labels;
  private final List<EpochStats> history;

  private final Param<String> featuresCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> predictedLabelCol;
  private final IntParam batchSize;
  private final BooleanParam useFlip;

  DenseHeadClassificationModel(String uid, MultiLayerNetwork network, List<String> labels, List<EpochStats> history) {
    this.uid = uid;
    this.network = network;
    this.labels = List.copyOf(labels);
    this.history = List.copyOf(history);
    featuresCol = new Param<>(this, "featuresCol", DenseHeadParams.FEATURES_DOC);
    predictionCol = new Param<>(this, "predictionCol", DenseHeadParams.PREDICTION_DOC);
    probabilityCol = new Param<>(this, "probabilityCol", DenseHeadParams.PROBABILITY_DOC);
    predictedLabelCol = new Param<>(this, "predictedLabelCol", DenseHeadParams.PREDICTED_LABEL_DOC);
    batchSize = new IntParam(this, "batchSize", "rows per forward pass when scoring", ParamValidators.gtEq(1));
    useFlip = new BooleanParam(this, "useFlip",
        "average with the mirrored image's features in <featuresCol>_flip when that column exists");
    setDefault(featuresCol, "features");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(predictedLabelCol, "predictedLabel");
    setDefault(batchSize, 256);
    setDefault(useFlip, true);
  }

  @Override
  public String uid() {
    return uid;
  }

  /** Class names in output order: index i of prediction and probability is {@code labels().get(i)}. */
  public List<String> labels() {
    return labels;
  }

  /** One entry per epoch of the fit: losses, accuracies, learning rate. */
  public List<EpochStats> history() {
    return history;
  }

  /** The trained DL4J network (a copy: scoring never sees changes made to it). */
  public MultiLayerNetwork network() {
    return network.clone();
  }

  public Param<String> featuresCol() {
    return featuresCol;
  }

  public Param<String> predictionCol() {
    return predictionCol;
  }

  public Param<String> probabilityCol() {
    return probabilityCol;
  }

  public Param<String> predictedLabelCol() {
    return predictedLabelCol;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public BooleanParam useFlip() {
    return useFlip;
  }

  public String getFeaturesCol() {
    return $(featuresCol);
  }

  public DenseHeadClassificationModel setFeaturesCol(String v) {
    set(featuresCol, v);
    return this;
  }

  public String getPredictionCol() {
    return $(predictionCol);
  }

  public DenseHeadClassificationModel setPredictionCol(String v) {
    set(predictionCol, v);
    return this;
  }

  public String getProbabilityCol() {
    return $(probabilityCol);
  }

  public DenseHeadClassificationModel setProbabilityCol(String v) {
    set(probabilityCol, v);
    return this;
  }

  public String getPredictedLabelCol() {
    return $(predictedLabelCol);
  }

  public DenseHeadClassificationModel setPredictedLabelCol(String v) {
    set(predictedLabelCol, v);
    return this;
  }

  public int getBatchSize() {
    return (Integer) $(batchSize);
  }

  public DenseHeadClassificationModel setBatchSize(int v) {
    set(batchSize, v);
    return this;
  }

  public boolean getUseFlip() {
    return (Boolean) $(useFlip);
  }

  public DenseHeadClassificationModel setUseFlip(boolean v) {
    set(useFlip, v);
    return this;
  }

  @Override
  public StructType transformSchema(StructType schema) {
    DenseHeadParams.requireFeatures(schema, getFeaturesCol());
    for (String out : List.of(getPredictionCol(), getProbabilityCol(), getPredictedLabelCol())) {
      DenseHeadParams.requireAbsent(schema, out);
    }
    return schema
        .add(getPredictionCol(), DataTypes.DoubleType, true)
        .add(getProbabilityCol(), SQLDataTypes.VectorType(), true)
        .add(getPredictedLabelCol(), DataTypes.StringType, true);
  }

  private static final String FEATURES = "__bottleneck_features";
  private static final String FLIP = "__bottleneck_features_flip";
  private static final String PROBABILITIES = "__bottleneck_probabilities";
  private static final String LABEL = "__bottleneck_label";

  @Override
  public Dataset<Row> transform(Dataset<?> dataset) {
    StructType outSchema = transformSchema(dataset.schema());
    String flipCol = getFeaturesCol() + "_flip";
    boolean flip = getUseFlip() && List.of(dataset.schema().fieldNames()).contains(flipCol);
    Dataset<Row> df = dataset.toDF().withColumn(FEATURES, asFloatArray(dataset.schema(), getFeaturesCol()));
    if (flip) {
      DenseHeadParams.requireFeatures(dataset.schema(), flipCol);
      df = df.withColumn(FLIP, asFloatArray(dataset.schema(), flipCol));
    }
    Column present = col(FEATURES).isNotNull();
    if (flip) {
      present = present.and(col(FLIP).isNotNull());
    }
    Dataset<Row> scored = HeadScorer.score(df.where(present), network, labels, getBatchSize(), FEATURES,
        flip ? List.of(FLIP) : List.of(), PROBABILITIES, LABEL);
    Dataset<Row> missing = df.where(functionsNot(present))
        .withColumn(PROBABILITIES, lit(null).cast(DataTypes.createArrayType(DataTypes.DoubleType, false)))
        .withColumn(LABEL, lit(null).cast(DataTypes.StringType));
    Dataset<Row> all = scored.unionByName(missing);
    Column index = array_position(org.apache.spark.sql.functions.array(labels.stream().map(l -> lit(l)).toArray(Column[]::new)),
        col(LABEL)).minus(1).cast(DataTypes.DoubleType);
    all = all
        .withColumn(getPredictionCol(), org.apache.spark.sql.functions.when(col(LABEL).isNotNull(), index))
        .withColumn(getProbabilityCol(), org.apache.spark.ml.functions.array_to_vector(col(PROBABILITIES)))
        .withColumn(getPredictedLabelCol(), col(LABEL));
    List<Column> ordered = new ArrayList<>();
    for (StructField f : outSchema.fields()) {
      ordered.add(col(f.name()));
    }
    return all.select(ordered.toArray(new Column[0]));
  }

  private static Column functionsNot(Column c) {
    return org.apache.spark.sql.functions.not(c);
  }

  /** Column {@code name} as array&lt;float&gt;, whether a Vector or an array. */
  static Column asFloatArray(StructType schema, String name) {
    DataType type = schema.apply(name).dataType();
    if (DenseHeadParams.isVector(type)) {
      return org.apache.spark.ml.functions.vector_to_array(col(name), "float32");
    }
    ArrayType array = (ArrayType) type;
    return array.elementType().equals(DataTypes.FloatType)
        ? col(name) : col(name).cast(DataTypes.createArrayType(DataTypes.FloatType));
  }

  @Override
  public DenseHeadClassificationModel copy(ParamMap extra) {
    DenseHeadClassificationModel copy = new DenseHeadClassificationModel(uid, network, labels, history);
    return copyValues(copy, extra).setParent(parent());
  }

  // ------------------------------------------------------------------ persistence

  @Override
  public MLWriter write() {
    return new Writer(this);
  }

  public static MLReader<DenseHeadClassificationModel> read() {
    return new Reader();
  }

  public static DenseHeadClassificationModel load(String path) {
    return read().load(path);
  }

  /** Params as Spark ML writes them ({@code metadata/}), the network and labels in {@code data/}. */
  private static final class Writer extends MLWriter {
    private final DenseHeadClassificationModel instance;

    Writer(DenseHeadClassificationModel instance) {
      this.instance = instance;
    }

    @Override
    public void saveImpl(String path) {
      DefaultParamsWriter.saveMetadata(instance, path, sc(), scala.Option.empty(), scala.Option.empty());
      Path data = new Path(path, "data");
      try {
        FileSystem fs = data.getFileSystem(sc().hadoopConfiguration());
        try (OutputStream out = fs.create(new Path(data, "head.zip"), false)) {
          ModelSerializer.writeModel(instance.network, out, false);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("labels", instance.labels);
        meta.put("history", instance.history);
        try (OutputStream out = fs.create(new Path(data, "labels.json"), false)) {
          out.write(Json.pretty(meta).getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot write the head to " + data, e);
      }
    }
  }

  private static final class Reader extends MLReader<DenseHeadClassificationModel> {
    @Override
    @SuppressWarnings("unchecked")
    public DenseHeadClassificationModel load(String path) {
      DefaultParamsReader.Metadata metadata =
          DefaultParamsReader.loadMetadata(path, sc(), DenseHeadClassificationModel.class.getName());
      Path data = new Path(path, "data");
      try {
        FileSystem fs = data.getFileSystem(sc().hadoopConfiguration());
        MultiLayerNetwork network;
        try (InputStream in = fs.open(new Path(data, "head.zip"))) {
          network = ModelSerializer.restoreMultiLayerNetwork(in, false);
        }
        Map<String, Object> meta;
        try (InputStream in = fs.open(new Path(data, "labels.json"))) {
          meta = Json.parseObject(new String(in.readAllBytes(), StandardCharsets.UTF_8), path + "/data/labels.json");
        }
        List<EpochStats> history = new ArrayList<>();
        for (Object e : (List<Object>) meta.getOrDefault("history", List.of())) {
          history.add(Json.mapper().convertValue(e, EpochStats.class));
        }
        DenseHeadClassificationModel model = new DenseHeadClassificationModel(
            metadata.uid(), network, (List<String>) meta.get("labels"), history);
        metadata.getAndSetParams(model, scala.Option.empty());
        return model;
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot read the head from " + data, e);
      }
    }
  }
}
