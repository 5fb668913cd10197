package io.bottleneck.predict;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.bottleneck.io.Columns;
import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class ModelAverageTest {
  private static final List<String> CLASSES = List.of("bird", "cat", "dog");
  private static final int ROWS = 40;
  private static final StructType FIRST =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType)
          .add(Columns.LABEL, DataTypes.StringType)
          .add(Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType, false), false)
          .add(Columns.PREDICTION, DataTypes.StringType)
          .add("extra", DataTypes.IntegerType);
  private static final StructType OTHER =
      new StructType()
          .add(Columns.PATH, DataTypes.StringType)
          .add(Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType, false), false)
          .add(Columns.PREDICTION, DataTypes.StringType);

  /** Random probability vectors, one per row and model; row i is file:/img/i.jpg. */
  private static double[][][] probabilities(int models, long seed) {
    Random random = new Random(seed);
    double[][][] p = new double[models][ROWS][CLASSES.size()];
    for (int m = 0; m < models; m++) {
      for (int i = 0; i < ROWS; i++) {
        double sum = 0;
        for (int c = 0; c < CLASSES.size(); c++) {
          p[m][i][c] = random.nextDouble() + 1e-3;
          sum += p[m][i][c];
        }
        for (int c = 0; c < CLASSES.size(); c++) {
          p[m][i][c] /= sum;
        }
      }
    }
    return p;
  }

  private static String argmax(double[] p) {
    int best = 0;
    for (int c = 1; c < p.length; c++) {
      best = p[c] > p[best] ? c : best;
    }
    return CLASSES.get(best);
  }

  private static Dataset<Row> first(double[][] p, int partitions) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < ROWS; i++) {
      rows.add(RowFactory.create("file:/img/" + i + ".jpg", "l" + i, box(p[i]), argmax(p[i]), i * 7));
    }
    return LocalSpark.session().createDataFrame(rows, FIRST).repartition(partitions);
  }

  private static Dataset<Row> other(double[][] p, int partitions, int skipRow) {
    List<Row> rows = new ArrayList<>();
    // the rows in reverse order and other partitions: matching is by path, not position
    for (int i = ROWS - 1; i >= 0; i--) {
      if (i != skipRow) {
        rows.add(RowFactory.create("file:/img/" + i + ".jpg", box(p[i]), argmax(p[i])));
      }
    }
    return LocalSpark.session().createDataFrame(rows, OTHER).repartition(partitions);
  }

  private static Double[] box(double[] p) {
    Double[] b = new Double[p.length];
    for (int i = 0; i < p.length; i++) {
      b[i] = p[i];
    }
    return b;
  }

  @Test
  void averagesTheProbabilitiesPerImageAndRetakesThePrediction() {
    double[][][] p = probabilities(3, 11);
    Dataset<Row> averaged =
        ModelAverage.average(
            List.of(first(p[0], 3), other(p[1], 2, -1), other(p[2], 5, -1)), List.of("a", "b", "c"), CLASSES);
    assertThat(averaged.schema().fieldNames())
        .containsExactly(Columns.PATH, Columns.LABEL, Columns.PROBABILITIES, Columns.PREDICTION, "extra");
    List<Row> rows = averaged.collectAsList();
    assertThat(rows).hasSize(ROWS);
    int changed = 0;
    for (Row r : rows) {
      int i = Integer.parseInt(r.getString(0).replaceAll("\\D", ""));
      assertThat(r.getString(1)).isEqualTo("l" + i);
      assertThat(r.getInt(4)).isEqualTo(i * 7);
      double[] mean = new double[CLASSES.size()];
      List<Double> got = r.getList(2);
      for (int c = 0; c < mean.length; c++) {
        mean[c] = (p[0][i][c] + p[1][i][c] + p[2][i][c]) / 3;
        assertThat(got.get(c)).as("row %d class %d", i, c).isCloseTo(mean[c], within(1e-12));
      }
      assertThat(r.getString(3)).as("row %d", i).isEqualTo(argmax(mean));
      changed += argmax(mean).equals(argmax(p[0][i])) ? 0 : 1;
    }
    // the average decides some rows differently than the first model alone did
    assertThat(changed).isPositive();
  }

  @Test
  void oneModelIsReturnedAsItIs() {
    double[][][] p = probabilities(1, 3);
    Dataset<Row> only = first(p[0], 2);
    assertThat(ModelAverage.average(List.of(only), List.of("a"), CLASSES)).isSameAs(only);
  }

  @Test
  void anImageAnotherModelDidNotScoreFailsNamingItAndTheModel() {
    double[][][] p = probabilities(2, 5);
    Dataset<Row> averaged =
        ModelAverage.average(List.of(first(p[0], 2), other(p[1], 2, 17)), List.of("m-one", "m-two"), CLASSES);
    assertThatThrownBy(averaged::collectAsList)
        .hasMessageContaining("model m-two gave no probabilities for file:/img/17.jpg");
  }

  @Test
  void checksSchemasAndArguments() {
    double[][][] p = probabilities(2, 7);
    Dataset<Row> unscored = first(p[0], 1).drop(Columns.PROBABILITIES);
    assertThatThrownBy(() -> ModelAverage.average(List.of(unscored, other(p[1], 1, -1)), List.of("a", "b"), CLASSES))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("Column probabilities of type array<double> is required but missing");
    assertThatThrownBy(() -> ModelAverage.average(List.of(first(p[0], 1)), List.of("a", "b"), CLASSES))
        .hasMessageContaining("one model name per scored dataset");
    assertThatThrownBy(() -> ModelAverage.average(List.of(first(p[0], 1)), List.of("a"), List.of("cat", "cat")))
        .hasMessageContaining("classNames must be distinct");
  }
}
