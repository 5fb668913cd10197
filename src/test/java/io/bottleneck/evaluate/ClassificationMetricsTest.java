package io.bottleneck.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.io.Columns;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Expected numbers were worked out by hand and agree with sklearn 1.9 (noted per test). */
class ClassificationMetricsTest {
  private static final List<String> BINARY = List.of("cat", "dog");

  /** Scores with ties: 0.4 appears for a positive and two negatives. */
  private static final int[] Y = {0, 0, 1, 1, 0, 1};

  private static final double[][] P = {
    {0.9, 0.1}, {0.6, 0.4}, {0.65, 0.35}, {0.2, 0.8}, {0.6, 0.4}, {0.6, 0.4}
  };

  @Test
  void binaryMetricsWithTies() {
    ClassificationMetrics m = ClassificationMetrics.compute(BINARY, Y, P);
    // Predicted (first argmax): 0 0 0 1 0 0.
    assertThat(m.n()).isEqualTo(6);
    assertThat(m.accuracy()).isEqualTo(4.0 / 6);
    assertThat(m.confusionMatrix()).isDeepEqualTo(new long[][] {{3, 0}, {2, 1}});
    // Class 0: tp 3, fp 2, fn 0. Class 1: tp 1, fp 0, fn 2.
    assertThat(m.perClass())
        .containsExactly(
            new ClassificationMetrics.ClassMetrics("cat", 0.6, 1.0, 0.75, 3),
            new ClassificationMetrics.ClassMetrics("dog", 1.0, 1.0 / 3, 0.5, 3));
    // -(ln .9 + ln .6 + ln .35 + ln .8 + ln .6 + ln .4) / 6; sklearn log_loss 0.5527113618128084
    assertThat(m.loss()).isCloseTo(0.5527113618128084, within(1e-15));
    // 9 positive/negative pairs: 0.35 beats 1, 0.8 beats 3, 0.4 beats 1 and ties 2 (= 1):
    // 6 / 9; sklearn roc_auc_score 0.6666666666666667.
    assertThat(m.auc().getAsDouble()).isCloseTo(2.0 / 3, within(1e-15));
  }

  @Test
  void aucWithManyTiesEqualsSklearn() {
    int[] y = {0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0,
        1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 1, 1};
    double[] s = {0.7, 0.5, 0.3, 0.2, 1.0, 0.5, 0.1, 0.6, 0.8, 0.6, 0.9, 0.0, 0.5, 0.5, 0.1, 0.6,
        0.9, 0.6, 0.3, 0.8, 0.5, 0.5, 0.8, 0.1, 0.8, 0.7, 0.8, 0.2, 0.8, 0.2, 0.1, 0.9, 0.9, 0.9,
        0.5, 0.3, 0.0, 0.6, 0.7, 0.8, 0.3, 0.2, 0.6, 0.8, 1.0, 0.2, 0.5, 0.9, 0.4, 0.6};
    double[][] p = new double[s.length][];
    for (int i = 0; i < s.length; i++) {
      p[i] = new double[] {1 - s[i], s[i]};
    }
    // sklearn.metrics.roc_auc_score(y, s) = 0.44155844155844154
    assertThat(ClassificationMetrics.compute(BINARY, y, p).auc().getAsDouble())
        .isCloseTo(0.44155844155844154, within(1e-15));
  }

  @Test
  void multiclassMetricsAndMacroOneVsRestAuc() {
    int[] y = {0, 1, 2, 2, 1, 0, 2, 1};
    double[][] p = {
      {.7, .2, .1}, {.2, .5, .3}, {.1, .3, .6}, {.3, .4, .3},
      {.2, .6, .2}, {.4, .4, .2}, {.2, .2, .6}, {.5, .3, .2}
    };
    ClassificationMetrics m = ClassificationMetrics.compute(List.of("a", "b", "c"), y, p);
    // Predicted 0 1 2 1 1 0 2 0 (row 5 ties 0/1: the first wins, like numpy argmax).
    assertThat(m.accuracy()).isEqualTo(0.75);
    assertThat(m.confusionMatrix()).isDeepEqualTo(new long[][] {{2, 0, 0}, {1, 2, 0}, {0, 1, 2}});
    assertThat(m.perClass().get(0).precision()).isCloseTo(2.0 / 3, within(1e-15));
    assertThat(m.perClass().get(0).f1()).isCloseTo(0.8, within(1e-15));
    assertThat(m.perClass().get(1).recall()).isCloseTo(2.0 / 3, within(1e-15));
    assertThat(m.perClass().get(2).precision()).isEqualTo(1.0);
    assertThat(m.perClass().get(2).support()).isEqualTo(3);
    // sklearn log_loss 0.7383169170403346; roc_auc_score(multi_class="ovr") 0.9055555555555556
    assertThat(m.loss()).isCloseTo(0.7383169170403346, within(1e-15));
    assertThat(m.auc().getAsDouble()).isCloseTo(0.9055555555555556, within(1e-15));
  }

  @Test
  void undefinedRatiosAreZeroAndAucIsAbsentWithoutBothClasses() {
    // Only class 0 present and always predicted: class 1 has no support and no predictions.
    ClassificationMetrics m =
        ClassificationMetrics.compute(BINARY, new int[] {0, 0}, new double[][] {{.8, .2}, {.7, .3}});
    assertThat(m.perClass().get(1))
        .isEqualTo(new ClassificationMetrics.ClassMetrics("dog", 0.0, 0.0, 0.0, 0));
    assertThat(m.auc()).isEmpty();
    assertThat(m.summaryJson()).doesNotContain("auc");
    // A class missing from three makes the one-vs-rest AUC undefined too.
    ClassificationMetrics three =
        ClassificationMetrics.compute(
            List.of("a", "b", "c"), new int[] {0, 1}, new double[][] {{.5, .3, .2}, {.2, .5, .3}});
    assertThat(three.auc()).isEmpty();
  }

  @Test
  void lossClipsZeroProbabilities() {
    ClassificationMetrics m =
        ClassificationMetrics.compute(BINARY, new int[] {1, 0}, new double[][] {{1, 0}, {1, 0}});
    // (-ln 1e-15 + -ln 1) / 2
    assertThat(m.loss()).isCloseTo(34.538776394910684 / 2, within(1e-12));
    assertThat(ClassificationMetrics.logLoss(0.0)).isCloseTo(34.538776394910684, within(1e-12));
  }

  @Test
  void summaryJsonIsOneLineWithTheHeadline() {
    ClassificationMetrics m =
        ClassificationMetrics.compute(
            BINARY, new int[] {0, 1, 1, 0}, new double[][] {{.5, .5}, {.5, .5}, {.5, .5}, {.5, .5}});
    // All ties: predicted 0 everywhere, loss ln 2, AUC 0.5.
    assertThat(m.summaryJson())
        .isEqualTo("{\"accuracy\":0.5,\"loss\":" + Math.log(2) + ",\"n\":4,\"auc\":0.5}");
  }

  @Test
  void toJsonHoldsEverything() throws Exception {
    JsonNode json = new ObjectMapper().readTree(ClassificationMetrics.compute(BINARY, Y, P).toJson());
    assertThat(json.get("accuracy").asDouble()).isEqualTo(4.0 / 6);
    assertThat(json.get("n").asLong()).isEqualTo(6);
    assertThat(json.get("auc").asDouble()).isCloseTo(2.0 / 3, within(1e-15));
    assertThat(json.get("classes").toString()).isEqualTo("[\"cat\",\"dog\"]");
    assertThat(json.get("per_class").get("cat").toString())
        .isEqualTo("{\"precision\":0.6,\"recall\":1.0,\"f1\":0.75,\"support\":3}");
    assertThat(json.get("confusion_matrix").toString())
        .isEqualTo("{\"labels\":[\"cat\",\"dog\"],\"matrix\":[[3,0],[2,1]]}");
    assertThat(ClassificationMetrics.compute(BINARY, new int[] {0}, new double[][] {{.9, .1}})
            .toJson())
        .contains("\"auc\" : null");
  }

  @Test
  void rejectsInconsistentInput() {
    assertThatThrownBy(() -> ClassificationMetrics.compute(BINARY, new int[] {0, 2}, P))
        .hasMessage("trueIndex has 2 entries but probabilities has 6 rows");
    assertThatThrownBy(
            () -> ClassificationMetrics.compute(BINARY, new int[] {2}, new double[][] {{.5, .5}}))
        .hasMessage("trueIndex[0] = 2 is outside [0, 2) for classes [cat, dog]");
    assertThatThrownBy(
            () -> ClassificationMetrics.compute(BINARY, new int[] {0}, new double[][] {{1}}))
        .hasMessage("probabilities[0] must have 2 values (one per class) but had 1");
    assertThatThrownBy(() -> ClassificationMetrics.compute(BINARY, new int[0], new double[0][]))
        .hasMessage("Cannot compute metrics of an empty set.");
    assertThatThrownBy(
            () -> ClassificationMetrics.compute(List.of("a", "a"), new int[] {0}, new double[][] {{1, 0}}))
        .hasMessage("classNames must be distinct and non-null but was [a, a]");
  }

  @Test
  @ExtendWith(LocalSpark.class)
  void fromPredictionsMatchesCompute(SparkSession spark) {
    StructType schema =
        new StructType()
            .add("path", DataTypes.StringType)
            .add(Columns.LABEL_INDEX, DataTypes.IntegerType)
            .add(Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < Y.length; i++) {
      rows.add(RowFactory.create("img" + i, Y[i], P[i]));
    }
    Dataset<Row> scored = spark.createDataFrame(rows, schema).repartition(3);
    ClassificationMetrics fromSpark = ClassificationMetrics.fromPredictions(scored, BINARY);
    ClassificationMetrics direct = ClassificationMetrics.compute(BINARY, Y, P);
    // Row order differs after the repartition: only the loss sum may differ, in its last bits.
    assertThat(fromSpark.n()).isEqualTo(6);
    assertThat(fromSpark.confusionMatrix()).isDeepEqualTo(direct.confusionMatrix());
    assertThat(fromSpark.perClass()).isEqualTo(direct.perClass());
    assertThat(fromSpark.auc()).isEqualTo(direct.auc());
    assertThat(fromSpark.loss()).isCloseTo(direct.loss(), within(1e-15));

    assertThatThrownBy(
            () -> ClassificationMetrics.fromPredictions(scored.drop(Columns.LABEL_INDEX), BINARY))
        .hasMessageStartingWith("Column label_index of type int is required but missing");
    Dataset<Row> floats =
        scored.withColumn(
            Columns.PROBABILITIES,
            scored.col(Columns.PROBABILITIES).cast(DataTypes.createArrayType(DataTypes.FloatType)));
    assertThatThrownBy(() -> ClassificationMetrics.fromPredictions(floats, BINARY))
        .hasMessage("Column probabilities must be of type array<double> but was actually array<float>.");
  }
}
