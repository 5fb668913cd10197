package io.bottleneck.train;

import io.bottleneck.evaluate.Evaluation;
import io.bottleneck.io.HadoopFiles;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/** The files a training run leaves next to its model bundle, for notebooks and spreadsheets. */
public final class TrainingFiles {
  private TrainingFiles() {}

  /**
   * history.csv (the head's epochs), fine_tune_history.csv when fine-tuning ran, the search's
   * trials when one ran, and examples.csv (the validation images scored) when there are metrics.
   */
  public static void write(SparkSession spark, String dir, Trained trained) throws IOException {
    HadoopFiles.writeString(HadoopFiles.child(dir, "history.csv"), historyCsv(trained.head().history()), spark);
    if (trained.fineTuned() != null) {
      HadoopFiles.writeString(
          HadoopFiles.child(dir, "fine_tune_history.csv"), historyCsv(trained.fineTuned().history()), spark);
    }
    writeTrials(spark, dir, trained);
    Evaluation.writeExamples(spark, dir, trained.metrics());
  }

  /** trials.csv and trials.json in {@code dir} when a search ran; nothing otherwise. */
  public static void writeTrials(SparkSession spark, String dir, Trained trained) throws IOException {
    if (trained.search() != null) {
      HadoopFiles.writeString(HadoopFiles.child(dir, "trials.csv"), trained.search().toCsv(), spark);
      HadoopFiles.writeString(HadoopFiles.child(dir, "trials.json"), trained.search().toJson(), spark);
    }
  }

  /** One line per epoch: loss and accuracy on both sets and the learning rate; NaN as an empty field. */
  public static String historyCsv(List<EpochStats> history) {
    StringBuilder b = new StringBuilder("epoch,loss,accuracy,val_loss,val_accuracy,lr\n");
    for (EpochStats e : history) {
      b.append(
          String.format(
              Locale.ROOT,
              "%d,%s,%s,%s,%s,%s%n",
              e.epoch(),
              num(e.trainLoss()),
              num(e.trainAccuracy()),
              num(e.validationLoss()),
              num(e.validationAccuracy()),
              num(e.learningRate())));
    }
    return b.toString();
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
  }
}
