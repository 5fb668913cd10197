package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import io.bottleneck.features.Featurizer;
import io.bottleneck.ingest.IngestResult;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.predict.HeadScorer;
import io.bottleneck.predict.PredictionWriter;
import io.bottleneck.warehouse.CatalogTables;
import io.bottleneck.warehouse.JdbcRunTable;
import io.bottleneck.warehouse.RunPartition;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Batch prediction of unlabeled images with a bundle, shared by predict and pipeline. */
final class Predictions {
  private static final Logger LOG = LoggerFactory.getLogger(Predictions.class);

  /**
   * @param summary rows per predicted label and the confidence histogram ({@link
   *     Reports#predictionSummary}), computed on the rows as written
   */
  record Outcome(
      long predicted, long rejected, String output, String table, Featurizer.Result features, Map<String, Object> summary) {}

  private Predictions() {}

  /**
   * @param output directory for files (partitioned by run_id), or empty for none
   * @param table catalog table, or empty for none (the JDBC target, if any, comes from cfg's predict.jdbc.*)
   */
  static Outcome run(
      SparkSession spark, JobConfig cfg, ModelBundle bundle, String input, String output, String table, String featureCache)
      throws Exception {
    IngestResult ingested = Stages.ingest(spark, input, "none");
    Featurizer.Result features = Stages.featurize(spark, ingested.images(), bundle.baseId(), cfg, featureCache);
    if (!features.preprocessingId().equals(bundle.preprocessingId())) {
      throw new IllegalStateException(
          "Model " + bundle.modelId() + " was trained with preprocessing " + bundle.preprocessingId()
              + " but this build of base " + bundle.baseId() + " uses " + features.preprocessingId());
    }
    Stages.TtaFeatures tta = Stages.withTta(spark, features.featured(), bundle.baseId(), cfg, featureCache);
    Dataset<Row> scored =
        HeadScorer.score(tta.rows(), bundle.head(), bundle.classes(), cfg.predictBatchSize, tta.viewColumns());
    Dataset<Row> rows =
        PredictionWriter.publishedRows(
                scored, bundle.classes(), bundle.modelId(), cfg.runId, Timestamp.from(Instant.now()))
            .persist();
    long predicted = rows.count();
    String qualifiedOutput = "";
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
    Map<String, Object> summary = Reports.predictionSummary(rows, bundle.classes());
    rows.unpersist();
    tta.close();
    features.close();
    LOG.info("predict: {} images predicted, {} rejected", predicted, ingested.rejected());
    return new Outcome(predicted, ingested.rejected(), qualifiedOutput, table, features, summary);
  }
}
