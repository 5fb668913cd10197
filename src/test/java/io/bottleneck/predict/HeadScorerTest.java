package io.bottleneck.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.io.Columns;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

@ExtendWith(LocalSpark.class)
class HeadScorerTest {
  private static final int DIMS = 8;
  private static final int ROWS = 23;
  private static final List<String> CLASSES = List.of("bird", "cat", "dog");
  private static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.IntegerType, false)
          .add(Columns.PATH, DataTypes.StringType)
          .add(Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false))
          .add("meta", new StructType().add("w", DataTypes.IntegerType));

  private static MultiLayerNetwork head;
  private static float[][] features;
  private static Dataset<Row> input;

  @BeforeAll
  static void setUp() {
    // Random weights are enough; dropout 0.5 in the head shows inference switches it off.
    head =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(3)
                .dataType(DataType.FLOAT)
                .list()
                .layer(new DenseLayer.Builder().nIn(DIMS).nOut(6).activation(Activation.RELU)
                    .weightInit(WeightInit.RELU).build())
                .layer(new DropoutLayer.Builder(0.5).nIn(6).nOut(6).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                    .activation(Activation.SOFTMAX).nIn(6).nOut(CLASSES.size()).build())
                .build());
    head.init();
    Random random = new Random(5);
    features = new float[ROWS][DIMS];
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      for (int d = 0; d < DIMS; d++) {
        features[i][d] = (float) (random.nextGaussian() * 2);
      }
      rows.add(RowFactory.create(i, "file:/img/" + i + ".jpg", features[i], RowFactory.create(i * 10)));
    }
    // Four partitions of ~6 rows and batches of 4: full and partial batches in every partition.
    input = LocalSpark.session().createDataFrame(rows, SCHEMA).repartition(4);
  }

  @Test
  void appendsProbabilitiesAndPredictionAndKeepsEveryColumn() {
    Dataset<Row> scored = HeadScorer.score(input, head, CLASSES, 4);
    assertThat(scored.schema().fieldNames())
        .containsExactly("id", "path", "features", "meta", "probabilities", "prediction");
    assertThat(scored.schema().apply("probabilities").dataType().simpleString())
        .isEqualTo("array<double>");
    assertThat(scored.schema().apply("prediction").dataType()).isEqualTo(DataTypes.StringType);

    double[][] expected =
        head.output(Nd4j.create(features), false).castTo(DataType.DOUBLE).toDoubleMatrix();
    List<Row> rows = new ArrayList<>(scored.collectAsList());
    rows.sort(Comparator.comparingInt(r -> r.getInt(0)));
    assertThat(rows).hasSize(ROWS);
    int predictedClasses = 0;
    for (Row r : rows) {
      int id = r.getInt(0);
      assertThat(r.getString(1)).isEqualTo("file:/img/" + id + ".jpg");
      List<Float> f = r.getList(2);
      for (int d = 0; d < DIMS; d++) {
        assertThat(f.get(d)).isEqualTo(features[id][d]);
      }
      assertThat(r.getStruct(3).getInt(0)).isEqualTo(id * 10);
      List<Double> p = r.getList(4);
      assertThat(p.stream().mapToDouble(Double::doubleValue).sum()).isCloseTo(1.0, within(1e-6));
      int argmax = 0;
      for (int c = 0; c < CLASSES.size(); c++) {
        assertThat(p.get(c)).as("row %d class %d", id, c).isCloseTo(expected[id][c], within(1e-6));
        argmax = p.get(c) > p.get(argmax) ? c : argmax;
      }
      assertThat(r.getString(5)).isEqualTo(CLASSES.get(argmax));
      predictedClasses |= 1 << argmax;
    }
    // The random head is not degenerate: at least two different predictions.
    assertThat(Integer.bitCount(predictedClasses)).isGreaterThanOrEqualTo(2);
  }

  @Test
  void isDeterministicAndIndependentOfTheBatchSize() {
    List<Row> a = sorted(HeadScorer.score(input, head, CLASSES, 4));
    List<Row> b = sorted(HeadScorer.score(input, head, CLASSES, 4));
    List<Row> c = sorted(HeadScorer.score(input, head, CLASSES, 1000));
    for (int i = 0; i < ROWS; i++) {
      assertThat(b.get(i).getList(0)).isEqualTo(a.get(i).getList(0));
      List<Double> pa = a.get(i).getList(0);
      List<Double> pc = c.get(i).getList(0);
      for (int k = 0; k < CLASSES.size(); k++) {
        assertThat(pc.get(k)).isCloseTo(pa.get(k), within(1e-6));
      }
    }
  }

  private static List<Row> sorted(Dataset<Row> scored) {
    return scored.orderBy("id").select(Columns.PROBABILITIES).collectAsList();
  }

  @Test
  void checksTheSchemaFirst() {
    Dataset<Row> strings = input.withColumn(Columns.FEATURES, functions.lit("x"));
    assertThatThrownBy(() -> HeadScorer.score(strings, head, CLASSES, 4))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Column features must be of type array<float> but was actually string.");
    Dataset<Row> scoredAlready = input.withColumn(Columns.PROBABILITIES, functions.lit(1.0));
    assertThatThrownBy(() -> HeadScorer.score(scoredAlready, head, CLASSES, 4))
        .hasMessage("Output column probabilities already exists.");
    Dataset<Row> predicted = input.withColumn(Columns.PREDICTION, functions.lit("cat"));
    assertThatThrownBy(() -> HeadScorer.score(predicted, head, CLASSES, 4))
        .hasMessage("Output column prediction already exists.");
    assertThatThrownBy(() -> HeadScorer.score(input, head, List.of("cat", "dog"), 4))
        .hasMessage("The head has 3 outputs but 2 class names were given: [cat, dog]");
    assertThatThrownBy(() -> HeadScorer.score(input, head, CLASSES, 0))
        .hasMessage("batchSize must be >= 1 but was 0");
  }

  @Test
  void failsClearlyOnAFeatureLengthTheHeadDoesNotTake() {
    Dataset<Row> longer =
        input.withColumn(
            Columns.FEATURES,
            functions.concat(
                functions.col(Columns.FEATURES),
                functions.array(functions.lit(1.0f))));
    Dataset<Row> scored = HeadScorer.score(longer, head, CLASSES, 4);
    assertThatThrownBy(scored::collectAsList)
        .rootCause()
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "Column features has 9 values in a row but the head takes 8; were the features made"
                + " by another base model?");
  }
}
