package io.bottleneck.predict;

import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.warehouse.RunPartition;
import java.io.IOException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Prediction files under {@code output/run_id=<id>/} ({@link PredictionWriter#writeFiles}) and the
 * run's rejected files (Parquet) under {@code output/_rejects/run_id=<id>/}.
 */
public final class FilePredictionSink implements PredictionSink {
  private final SparkSession spark;
  private final String output;
  private final String format;

  /** @param output a qualified URI */
  public FilePredictionSink(SparkSession spark, String output, String format) {
    this.spark = spark;
    this.output = output;
    this.format = format;
  }

  @Override
  public int lookupRank() {
    return 2;
  }

  @Override
  public Dataset<Row> existingHashes(String modelId, String runId) throws IOException {
    return ExistingPredictions.inFiles(spark, output, format, modelId, runId);
  }

  @Override
  public void write(Dataset<Row> rows, RunPartition partition) {
    PredictionWriter.writeFiles(rows, output, format);
  }

  @Override
  public void writeRejects(IngestResult ingested, String runId) {
    if (ingested.rejected() > 0) {
      // kept next to the predictions; the leading underscore hides them from readers of the table
      ingested.rejects().write().mode(SaveMode.Overwrite)
          .parquet(HadoopFiles.child(HadoopFiles.child(output, "_rejects"), "run_id=" + runId));
    }
  }
}
