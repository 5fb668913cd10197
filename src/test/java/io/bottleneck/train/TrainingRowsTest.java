package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.testing.LocalSpark;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalSpark.class)
class TrainingRowsTest {
  /** Labels known on the driver get the order Spark gives the same labels in a dataset. */
  @Test
  void inClassOrderIsTheOrderOfClasses(SparkSession spark) {
    List<String> labels = List.of("dog", "Cat", "émeu", "zebra", "\uD83D\uDC31cat", "\uFF21", "ant", "Ant");
    List<String> fromRows =
        TrainingRows.classes(spark.createDataset(labels, Encoders.STRING()).toDF("label"));
    List<String> shuffled = new ArrayList<>(labels);
    java.util.Collections.reverse(shuffled);
    assertThat(TrainingRows.inClassOrder(shuffled)).isEqualTo(fromRows);
  }
}
