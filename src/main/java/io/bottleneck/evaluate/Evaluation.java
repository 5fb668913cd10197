package io.bottleneck.evaluate;

import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.train.TrainingRows;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The evaluate stage as the commands run it: a bundle's metrics on labeled, featurized rows, and
 * examples.csv, every evaluated image with its scores, written next to metrics.json.
 */
public final class Evaluation {
  private Evaluation() {}

  /** Scores labeled, featurized rows with the bundle's head and computes the metrics. */
  public static ClassificationMetrics evaluate(Dataset<Row> featuredLabeled, ModelBundle bundle, int batchSize) {
    return evaluate(featuredLabeled, bundle, batchSize, List.of());
  }

  /** As above, averaging the probabilities over features and the {@code viewColumns} (TTA). */
  public static ClassificationMetrics evaluate(
      Dataset<Row> featuredLabeled, ModelBundle bundle, int batchSize, List<String> viewColumns) {
    return evaluate(featuredLabeled, bundle, batchSize, viewColumns, true);
  }

  /**
   * As above; {@code checkLabels} false when the caller knows every label is one of the
   * bundle's classes (see {@link TrainingRows#withLabelIndex(Dataset, List, boolean)}).
   */
  public static ClassificationMetrics evaluate(
      Dataset<Row> featuredLabeled, ModelBundle bundle, int batchSize, List<String> viewColumns, boolean checkLabels) {
    Dataset<Row> indexed = TrainingRows.withLabelIndex(featuredLabeled, bundle.classes(), checkLabels);
    Dataset<Row> scored = HeadScorer.score(indexed, bundle.head(), bundle.classes(), batchSize, viewColumns);
    return ClassificationMetrics.fromPredictions(scored, bundle.classes());
  }

  /**
   * examples.csv: every evaluated image (above {@link ClassificationMetrics#COLLECT_LIMIT}, the
   * examples the metrics kept) with its true and predicted label, the confidence and each
   * class's probability, for notebooks and spreadsheets (no Parquet reader needed).
   */
  public static String examplesCsv(ClassificationMetrics metrics) {
    List<String> classes = metrics.classNames();
    StringBuilder b = new StringBuilder("path,label,predicted,confidence,correct");
    classes.forEach(c -> b.append(',').append(csv(PredictionWriter.probabilityColumn(c))));
    b.append('\n');
    for (ClassificationMetrics.Example e : metrics.examples()) {
      b.append(csv(e.path())).append(',').append(csv(classes.get(e.trueIndex()))).append(',')
          .append(csv(classes.get(e.predictedIndex()))).append(',').append(number(e.confidence())).append(',').append(e.correct());
      for (double p : e.probabilities()) {
        b.append(',').append(number(p));
      }
      b.append('\n');
    }
    return b.toString();
  }

  /** Writes examples.csv into {@code dir} when there are metrics (null: nothing was evaluated). */
  public static void writeExamples(SparkSession spark, String dir, ClassificationMetrics metrics) throws IOException {
    if (metrics != null) {
      HadoopFiles.writeString(HadoopFiles.child(dir, "examples.csv"), examplesCsv(metrics), spark);
    }
  }

  private static String csv(String field) {
    return field.contains(",") || field.contains("\"") || field.contains("\n")
        ? '"' + field.replace("\"", "\"\"") + '"' : field;
  }

  private static String number(double v) {
    return String.format(Locale.ROOT, "%.6g", v);
  }
}
