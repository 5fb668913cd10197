package io.bottleneck.ml;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.sha2;
import static org.apache.spark.sql.functions.to_json;

import io.bottleneck.io.Columns;
import io.bottleneck.split.StratifiedSplit;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadTrainer;
import io.bottleneck.train.TrainedHead;
import io.bottleneck.train.TrainingRows;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;

/**
 * A dense head on image features as a Spark ML {@link Estimator}: {@code fit} trains with
 * DL4J's {@code SparkDl4jMultiLayer} parameter averaging through the same trainer as the CLI's
 * train stage ({@link HeadTrainer}: early stopping and LR on plateau on the validation rows,
 * class weights, seeded and partition-independent), on features from {@link ImageFeaturizer}
 * (Vector) or any array&lt;float&gt; column.
 *
 * <p>Labels are class names (string; classes sorted, as Keras' {@code flow_from_directory} and
 * the CLI order them) or class indexes (numeric, e.g. from a StringIndexer: class {@code i} is
 * named {@code "i"}). {@code validationFraction} of the rows (stratified by class, seeded, like
 * Keras' {@code validation_split}) are held out for early stopping and LR on plateau; 0 trains
 * on all rows for {@code epochs}.
 */
public final class DenseHeadClassifier extends Estimator<DenseHeadClassificationModel> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private final Param<String> featuresCol;
  private final Param<String> labelCol;
  private final Param<String> predictionCol;
  private final Param<String> probabilityCol;
  private final Param<String> predictedLabelCol;
  private final IntArrayParam hiddenUnits;
  private final DoubleParam dropout;
  private final DoubleParam l2;
  private final Param<String> optimizer;
  private final DoubleParam learningRate;
  private final IntParam batchSize;
  private final IntParam epochs;
  private final DoubleParam validationFraction;
  private final IntParam patience;
  private final LongParam seed;

  public DenseHeadClassifier(String uid) {
    this.uid = uid;
    HeadConfig d = HeadConfig.defaults();
    featuresCol = new Param<>(this, "featuresCol", DenseHeadParams.FEATURES_DOC);
    labelCol = new Param<>(this, "labelCol", DenseHeadParams.LABEL_DOC);
    predictionCol = new Param<>(this, "predictionCol", DenseHeadParams.PREDICTION_DOC);
    probabilityCol = new Param<>(this, "probabilityCol", DenseHeadParams.PROBABILITY_DOC);
    predictedLabelCol = new Param<>(this, "predictedLabelCol", DenseHeadParams.PREDICTED_LABEL_DOC);
    hiddenUnits = new IntArrayParam(this, "hiddenUnits", "units of each hidden dense layer (ReLU); empty: softmax regression");
    dropout = new DoubleParam(this, "dropout", "dropout before each dense layer, in [0, 1)", ParamValidators.inRange(0, 1, true, false));
    l2 = new DoubleParam(this, "l2", "L2 weight decay", ParamValidators.gtEq(0));
    optimizer = new Param<>(this, "optimizer", "one of " + String.join(", ", HeadConfig.OPTIMIZERS),
        ParamValidators.inArray(HeadConfig.OPTIMIZERS.toArray(new String[0])));
    learningRate = new DoubleParam(this, "learningRate", "initial learning rate", ParamValidators.gt(0));
    batchSize = new IntParam(this, "batchSize", "mini-batch size per worker", ParamValidators.gtEq(1));
    epochs = new IntParam(this, "epochs", "most epochs to train", ParamValidators.gtEq(1));
    validationFraction = new DoubleParam(this, "validationFraction",
        "share of the rows held out (stratified, seeded) for early stopping and LR on plateau; 0: none",
        ParamValidators.inRange(0, 1, true, false));
    patience = new IntParam(this, "patience", "epochs without validation improvement before stopping; 0: never stop early",
        ParamValidators.gtEq(0));
    seed = new LongParam(this, "seed", "seed of the split, the initial weights and the batches");
    setDefault(featuresCol, "features");
    setDefault(labelCol, "label");
    setDefault(predictionCol, "prediction");
    setDefault(probabilityCol, "probability");
    setDefault(predictedLabelCol, "predictedLabel");
    setDefault(hiddenUnits, d.hiddenUnits().stream().mapToInt(Integer::intValue).toArray());
    setDefault(dropout, d.dropout());
    setDefault(l2, d.l2());
    setDefault(optimizer, d.optimizer());
    setDefault(learningRate, d.learningRate());
    setDefault(batchSize, d.batchSizePerWorker());
    setDefault(epochs, d.epochs());
    setDefault(validationFraction, 0.2);
    setDefault(patience, d.earlyStoppingPatience());
    setDefault(seed, d.seed());
  }

  public DenseHeadClassifier() {
    this(Identifiable.randomUID("denseHeadClassifier"));
  }

  @Override
  public String uid() {
    return uid;
  }

  // params, as Spark ML exposes them: the Param, its getter and its setter

  public Param<String> featuresCol() {
    return featuresCol;
  }

  public Param<String> labelCol() {
    return labelCol;
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

  public IntArrayParam hiddenUnits() {
    return hiddenUnits;
  }

  public DoubleParam dropout() {
    return dropout;
  }

  public DoubleParam l2() {
    return l2;
  }

  public Param<String> optimizer() {
    return optimizer;
  }

  public DoubleParam learningRate() {
    return learningRate;
  }

  public IntParam batchSize() {
    return batchSize;
  }

  public IntParam epochs() {
    return epochs;
  }

  public DoubleParam validationFraction() {
    return validationFraction;
  }

  public IntParam patience() {
    return patience;
  }

  public LongParam seed() {
    return seed;
  }

  public String getFeaturesCol() {
    return $(featuresCol);
  }

  public DenseHeadClassifier setFeaturesCol(String v) {
    set(featuresCol, v);
    return this;
  }

  public String getLabelCol() {
    return $(labelCol);
  }

  public DenseHeadClassifier setLabelCol(String v) {
    set(labelCol, v);
    return this;
  }

  public String getPredictionCol() {
    return $(predictionCol);
  }

  public DenseHeadClassifier setPredictionCol(String v) {
    set(predictionCol, v);
    return this;
  }

  public String getProbabilityCol() {
    return $(probabilityCol);
  }

  public DenseHeadClassifier setProbabilityCol(String v) {
    set(probabilityCol, v);
    return this;
  }

  public String getPredictedLabelCol() {
    return $(predictedLabelCol);
  }

  public DenseHeadClassifier setPredictedLabelCol(String v) {
    set(predictedLabelCol, v);
    return this;
  }

  public int[] getHiddenUnits() {
    return $(hiddenUnits);
  }

  public DenseHeadClassifier setHiddenUnits(int... v) {
    set(hiddenUnits, v);
    return this;
  }

  public double getDropout() {
    return (Double) $(dropout);
  }

  public DenseHeadClassifier setDropout(double v) {
    set(dropout, v);
    return this;
  }

  public double getL2() {
    return (Double) $(l2);
  }

  public DenseHeadClassifier setL2(double v) {
    set(l2, v);
    return this;
  }

  public String getOptimizer() {
    return $(optimizer);
  }

  public DenseHeadClassifier setOptimizer(String v) {
    set(optimizer, v);
    return this;
  }

  public double getLearningRate() {
    return (Double) $(learningRate);
  }

  public DenseHeadClassifier setLearningRate(double v) {
    set(learningRate, v);
    return this;
  }

  public int getBatchSize() {
    return (Integer) $(batchSize);
  }

  public DenseHeadClassifier setBatchSize(int v) {
    set(batchSize, v);
    return this;
  }

  public int getEpochs() {
    return (Integer) $(epochs);
  }

  public DenseHeadClassifier setEpochs(int v) {
    set(epochs, v);
    return this;
  }

  public double getValidationFraction() {
    return (Double) $(validationFraction);
  }

  public DenseHeadClassifier setValidationFraction(double v) {
    set(validationFraction, v);
    return this;
  }

  public int getPatience() {
    return (Integer) $(patience);
  }

  public DenseHeadClassifier setPatience(int v) {
    set(patience, v);
    return this;
  }

  public long getSeed() {
    return (Long) $(seed);
  }

  public DenseHeadClassifier setSeed(long v) {
    set(seed, v);
    return this;
  }

  /** The trainer's configuration from these params (the rest as the CLI's defaults). */
  public HeadConfig headConfig() {
    List<Integer> hidden = new ArrayList<>();
    for (int u : getHiddenUnits()) {
      hidden.add(u);
    }
    HeadConfig d = HeadConfig.defaults();
    return d.toBuilder()
        .hiddenUnits(hidden)
        .dropout(getDropout())
        .l2(getL2())
        .optimizer(getOptimizer())
        .learningRate(getLearningRate())
        .batchSizePerWorker(getBatchSize())
        .epochs(getEpochs())
        .earlyStoppingPatience(getPatience())
        .seed(getSeed())
        .build();
  }

  @Override
  public StructType transformSchema(StructType schema) {
    DenseHeadParams.requireFeatures(schema, getFeaturesCol());
    DataType label = DenseHeadParams.columnType(schema, getLabelCol());
    if (!(label instanceof StringType) && !(label instanceof NumericType)) {
      throw new IllegalArgumentException("Column " + getLabelCol() + " must be of type string (class names) or"
          + " numeric (class indexes) but was actually " + label.catalogString() + ".");
    }
    for (String out : List.of(getPredictionCol(), getProbabilityCol(), getPredictedLabelCol())) {
      DenseHeadParams.requireAbsent(schema, out);
    }
    return schema
        .add(getPredictionCol(), DataTypes.DoubleType, true)
        .add(getProbabilityCol(), org.apache.spark.ml.linalg.SQLDataTypes.VectorType(), true)
        .add(getPredictedLabelCol(), DataTypes.StringType, true);
  }

  @Override
  public DenseHeadClassificationModel fit(Dataset<?> dataset) {
    transformSchema(dataset.schema());
    HeadConfig config = headConfig();
    boolean numeric = !(dataset.schema().apply(getLabelCol()).dataType() instanceof StringType);
    Dataset<Row> rows = dataset.toDF()
        .where(col(getLabelCol()).isNotNull().and(col(getFeaturesCol()).isNotNull()))
        .select(
            DenseHeadClassificationModel.asFloatArray(dataset.schema(), getFeaturesCol()).as(Columns.FEATURES),
            (numeric ? col(getLabelCol()).cast(DataTypes.IntegerType).cast(DataTypes.StringType) : col(getLabelCol()))
                .as(Columns.LABEL));
    // the unit of the split: identical feature vectors go to one side, as copies of one image do
    rows = rows.withColumn(Columns.CONTENT_HASH, sha2(to_json(col(Columns.FEATURES)), 256));
    List<String> classes = numeric ? numericClasses(rows) : TrainingRows.classes(rows);
    Dataset<Row> indexed = TrainingRows.withLabelIndex(rows, classes);
    Dataset<Row> train = indexed;
    Dataset<Row> validation = null;
    if (getValidationFraction() > 0) {
      Dataset<Row> split = StratifiedSplit.split(indexed, getValidationFraction(), getSeed());
      train = split.where(col(Columns.SPLIT).equalTo(StratifiedSplit.TRAIN));
      validation = split.where(col(Columns.SPLIT).equalTo(StratifiedSplit.VALIDATION));
    }
    JavaSparkContext sc = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
    TrainedHead trained = HeadTrainer.fit(sc, TrainingRows.inStableOrder(train), validation, classes.size(), config);
    DenseHeadClassificationModel model =
        new DenseHeadClassificationModel(uid, trained.network(), classes, trained.history());
    model.setFeaturesCol(getFeaturesCol())
        .setPredictionCol(getPredictionCol())
        .setProbabilityCol(getProbabilityCol())
        .setPredictedLabelCol(getPredictedLabelCol());
    return model.setParent(this);
  }

  /** Numeric labels 0..max as class names "0".."max" (an index without rows still has its place). */
  private static List<String> numericClasses(Dataset<Row> rows) {
    Row range = rows.selectExpr("min(cast(" + Columns.LABEL + " as int))", "max(cast(" + Columns.LABEL + " as int))").first();
    int min = range.getInt(0);
    int max = range.getInt(1);
    if (min < 0) {
      throw new IllegalArgumentException("Label indexes must be >= 0 but the smallest is " + min);
    }
    if (max < 1) {
      throw new IllegalArgumentException("Training needs at least 2 classes but the largest label index is " + max);
    }
    List<String> classes = new ArrayList<>();
    for (int i = 0; i <= max; i++) {
      classes.add(Integer.toString(i));
    }
    return classes;
  }

  @Override
  public DenseHeadClassifier copy(ParamMap extra) {
    return defaultCopy(extra);
  }

  public static MLReader<DenseHeadClassifier> read() {
    return new DefaultParamsReader<>();
  }

  public static DenseHeadClassifier load(String path) {
    return read().load(path);
  }
}
