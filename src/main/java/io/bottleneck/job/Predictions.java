package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.warehouse.CatalogTables;
import io.bottleneck.warehouse.JdbcRunTable;
import io.bottleneck.warehouse.RunPartition;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Batch prediction of unlabeled images with a bundle (or several, averaged), shared by predict and pipeline. */
final class Predictions {
  private static final Logger LOG = LoggerFactory.getLogger(Predictions.class);

  /**
   * @param summary rows per predicted label and the confidence histogram ({@link
   *     Reports#predictionSummary}), computed on the rows as written
   */
  record Outcome(long predicted, long rejected, String output, String table, Map<String, Object> summary) {}

  private Predictions() {}

  /**
   * @param bundles one model, or several whose probabilities are averaged ({@link Scoring})
   * @param output directory for files (partitioned by run_id), or empty for none
   * @param table catalog table, or empty for none (the JDBC target, if any, comes from cfg's predict.jdbc.*)
   */
  static Outcome run(
      SparkSession spark, JobConfig cfg, List<ModelBundle> bundles, String input, String output, String table,
      String featureCache) throws Exception {
    IngestResult ingested = Stages.ingest(spark, input, "none", cfg.exifOrientation);
    List<String> classes = bundles.get(0).classes();
    long predicted;
    String qualifiedOutput = "";
    Map<String, Object> summary;
    // the featurized rows stay cached until every sink is written, and are freed on failure too
    try (Scoring.Scored scored = Scoring.score(spark, ingested.images(), bundles, cfg, featureCache)) {
      Dataset<Row> rows =
          PredictionWriter.publishedRows(
                  scored.rows(), classes, Scoring.modelId(bundles), cfg.runId, Timestamp.from(Instant.now()))
              .persist();
      try {
        predicted = rows.count();
        if (!output.isEmpty()) {
          qualifiedOutput = Stages.qualify(spark, output);
          PredictionWriter.writeFiles(rows, qualifiedOutput, cfg.predictFormat);
          if (ingested.rejected() > 0) {
            // kept next to the predictions; the leading underscore hides them from readers of the table
            ingested.rejects().write().mode(SaveMode.Overwrite)
                .parquet(HadoopFiles.child(HadoopFiles.child(qualifiedOutput, "_rejects"), "run_id=" + cfg.runId));
          }
        }
        RunPartition partition = new RunPartition(cfg.runDate, cfg.runId);
        if (!table.isEmpty()) {
          CatalogTables.replaceRunPartition(spark, rows, table, partition);
        }
        if (!cfg.jdbcUrl.isEmpty()) {
          JdbcRunTable.replaceRun(partition.appendTo(rows), Warehouse.jdbcTarget(cfg), cfg.runId);
        }
        summary = Reports.predictionSummary(rows, classes);
      } finally {
        rows.unpersist();
      }
    }
    LOG.info("predict: {} images predicted, {} rejected", predicted, ingested.rejected());
    ingested.close();
    return new Outcome(predicted, ingested.rejected(), qualifiedOutput, table, summary);
  }
}
