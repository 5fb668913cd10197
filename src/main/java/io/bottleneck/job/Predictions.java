package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import io.bottleneck.config.JobConfig;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.ExistingPredictions;
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
  record Outcome(
      long predicted, long rejected, String output, String table, Map<String, Object> summary, long skipped) {}

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
    Dataset<Row> images = ingested.images();
    long skipped = 0;
    if (cfg.skipExisting) {
      Dataset<Row> existing = existingHashes(spark, cfg, Scoring.modelId(bundles), output, table);
      images = ExistingPredictions.withoutExisting(images, existing).persist();
      skipped = ingested.accepted() - images.count();
      LOG.info("predict: {} of {} images skipped, the target holds their predictions by model {}",
          skipped, ingested.accepted(), Scoring.modelId(bundles));
      if (skipped == ingested.accepted()) {
        if (!output.isEmpty()) {
          qualifiedOutput = Stages.qualify(spark, output);
          writeRejects(ingested, qualifiedOutput, cfg.runId);
        }
        ingested.close();
        return new Outcome(0, ingested.rejected(), qualifiedOutput, table, Map.of(), skipped);
      }
    }
    // the featurized rows stay cached until every sink is written, and are freed on failure too
    try (Scoring.Scored scored = Scoring.score(spark, images, bundles, cfg, featureCache)) {
      Dataset<Row> rows =
          PredictionWriter.publishedRows(
                  scored.rows(), classes, Scoring.modelId(bundles), cfg.runId, Timestamp.from(Instant.now()))
              .persist();
      try {
        predicted = rows.count();
        if (!output.isEmpty()) {
          qualifiedOutput = Stages.qualify(spark, output);
          PredictionWriter.writeFiles(rows, qualifiedOutput, cfg.predictFormat);
          writeRejects(ingested, qualifiedOutput, cfg.runId);
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
    return new Outcome(predicted, ingested.rejected(), qualifiedOutput, table, summary, skipped);
  }

  private static void writeRejects(IngestResult ingested, String qualifiedOutput, String runId) {
    if (ingested.rejected() > 0) {
      // kept next to the predictions; the leading underscore hides them from readers of the table
      ingested.rejects().write().mode(SaveMode.Overwrite)
          .parquet(HadoopFiles.child(HadoopFiles.child(qualifiedOutput, "_rejects"), "run_id=" + runId));
    }
  }

  /**
   * The content hashes the target holds for this model from other runs: the catalog table if
   * one is given, else the JDBC table, else the files under output.
   */
  private static Dataset<Row> existingHashes(
      SparkSession spark, JobConfig cfg, String modelId, String output, String table) throws Exception {
    try {
      if (!table.isEmpty()) {
        return ExistingPredictions.inTable(spark, table, modelId, cfg.runId);
      } else if (!cfg.jdbcUrl.isEmpty()) {
        return ExistingPredictions.inJdbc(spark, Warehouse.jdbcTarget(cfg), modelId, cfg.runId);
      }
      return ExistingPredictions.inFiles(spark, Stages.qualify(spark, output), cfg.predictFormat, modelId, cfg.runId);
    } catch (IllegalStateException e) {
      throw new ConfigError("--skip-existing: " + e.getMessage(), e);
    }
  }
}
