package io.bottleneck.predict.stream;

import io.bottleneck.io.HadoopFiles;
import io.bottleneck.predict.PredictionWriter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Prediction files under {@code output/run_id=<id>/batch_id=<n>/} and rejects (Parquet) under
 * {@code output/_rejects/run_id=<id>/batch_id=<n>/}: each batch's folder is replaced as a
 * whole by a dynamic partition overwrite (staged, moved into place when the write commits), so
 * a batch written again leaves one copy.
 */
public final class FileBatchSink implements BatchSink {
  private final SparkSession spark;
  private final String output;
  private final String format;

  /** @param output a qualified URI */
  public FileBatchSink(SparkSession spark, String output, String format) {
    this.spark = spark;
    this.output = output;
    this.format = format;
  }

  public String rejectsFolder() {
    return HadoopFiles.child(output, "_rejects");
  }

  @Override
  public String describe() {
    return "folder " + output;
  }

  @Override
  public void check(StructType predictions, StructType rejects) throws Exception {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    if (!format.equals("parquet") || !HadoopFiles.hasData(output, conf)) {
      return;
    }
    Set<String> existing = new HashSet<>(Arrays.asList(spark.read().parquet(output).columns()));
    Set<String> expected = new HashSet<>(Arrays.asList(predictions.fieldNames()));
    if (!existing.equals(expected)) {
      throw new IllegalStateException(
          "Folder " + output + " holds files with columns " + existing + " but these rows have " + expected
              + "; write to a new folder");
    }
  }

  @Override
  public boolean hasRun(String runId) throws Exception {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    String folder = "run_id=" + runId;
    return HadoopFiles.exists(HadoopFiles.child(output, folder), conf)
        || HadoopFiles.exists(HadoopFiles.child(rejectsFolder(), folder), conf);
  }

  @Override
  public void write(Dataset<Row> predictions, Dataset<Row> rejects, String runId, long batchId) {
    // an empty dataset writes no partition: an earlier copy of the batch (a replay) had the same files
    PredictionWriter.writeFiles(predictions, output, format, StreamRows.KEY);
    rejects.coalesce(1).write().mode(SaveMode.Overwrite).option("partitionOverwriteMode", "dynamic")
        .partitionBy(StreamRows.KEY.toArray(new String[0])).parquet(rejectsFolder());
  }
}
