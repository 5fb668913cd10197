package io.bottleneck.predict.stream;

import static org.apache.spark.sql.functions.col;

import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.IngestResult;
import java.sql.Timestamp;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Predictions of the images that arrive in a folder, as a Spark Structured Streaming query: the
 * file source lists the new files of each micro-batch (and records them in the checkpoint), and
 * each micro-batch is decoded with ingest's check (rejects kept, with reasons), featurized
 * through the feature cache and scored by a {@link BatchScorer}, then written to every
 * {@link BatchSink}, keyed by (run_id, batch_id).
 *
 * <p>Exactly once: Spark records a batch's files in the checkpoint's offset log before running
 * it and marks it committed after {@code foreachBatch} returns; a batch that was running when
 * the driver died is run again, over the same files, with the same batch id, on restart, and
 * its writes replace what the first attempt wrote. So after any crash and a restart every
 * accepted file is in the predictions once and every rejected file in the rejects once.
 */
public final class StreamingPredictions {
  private static final Logger LOG = LoggerFactory.getLogger(StreamingPredictions.class);

  /** What Spark's binaryFile source gives; the content is never selected, so never read. */
  private static final StructType BINARY_FILE =
      new StructType()
          .add("path", DataTypes.StringType, false)
          .add("modificationTime", DataTypes.TimestampType, false)
          .add("length", DataTypes.LongType, false)
          .add("content", DataTypes.BinaryType, true);

  /**
   * @param input qualified URI of the folder whose new files are predicted (recursively; names
   *     starting with '.' or '_' are skipped, as by Spark's file sources)
   * @param intervalMillis the processing-time trigger's interval; 0 = available-now
   */
  public record Settings(
      String input, StreamCheckpoint checkpoint, long intervalMillis, int maxFilesPerTrigger, boolean exifOrientation) {}

  /** Scores a micro-batch's accepted images into predict's rows. */
  public interface BatchScorer {
    /** Rows as predict publishes them (path, predicted_label, prob_*, ..., run_id) and what to free after. */
    Scored score(Dataset<Row> images);

    /** The schema of {@link Scored#rows()}. */
    StructType schema();
  }

  public record Scored(Dataset<Row> rows, AutoCloseable release) {}

  /** What a run did; {@code stopped} when a signal ended it. */
  public record Outcome(long batches, long files, long accepted, long rejected, boolean stopped) {}

  private final SparkSession spark;
  private final Settings settings;
  private final BatchScorer scorer;
  private final List<BatchSink> sinks;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong files = new AtomicLong();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  /** A batch is between its foreachBatch call and its progress event (its commit). */
  private final AtomicBoolean busy = new AtomicBoolean();
  private final AtomicBoolean stopRequested = new AtomicBoolean();

  public StreamingPredictions(SparkSession spark, Settings settings, BatchScorer scorer, List<BatchSink> sinks) {
    this.spark = spark;
    this.settings = settings;
    this.scorer = scorer;
    this.sinks = List.copyOf(sinks);
  }

  public String runId() {
    return settings.checkpoint().runId();
  }

  /**
   * Before the query starts: every target must take rows of these schemas, and a new
   * checkpoint must not write under a run id that a target already holds (its batch ids would
   * start again at 0 and replace that run's batches).
   */
  public void check() throws Exception {
    StructType predictions = StreamRows.predictionsSchema(scorer.schema());
    for (BatchSink sink : sinks) {
      sink.check(predictions, StreamRows.REJECTS);
      if (settings.checkpoint().fresh() && sink.hasRun(runId())) {
        throw new IllegalStateException(
            sink.describe() + " already holds rows of run id " + runId() + ", written with another checkpoint than "
                + settings.checkpoint().uri() + ": give a new --run-id, or that run's checkpoint");
      }
    }
  }

  /** Runs the query until it has processed every new file (available-now) or is stopped by SIGTERM/SIGINT. */
  public Outcome run() throws Exception {
    settings.checkpoint().save(spark.sparkContext().hadoopConfiguration());
    Dataset<Row> listing =
        spark.readStream()
            .format("binaryFile")
            .schema(BINARY_FILE)
            .option("recursiveFileLookup", "true")
            .option("maxFilesPerTrigger", settings.maxFilesPerTrigger())
            // files are new by path: one copied in with an old modification time must not be
            // skipped as too old (the default maxFileAge is 7 days before the newest file)
            .option("maxFileAge", "36500d")
            .load(settings.input())
            .select(col("path"), col("length"), col("modificationTime"));
    StreamingQueryListener listener = new CommitListener();
    spark.streams().addListener(listener);
    StreamingQuery query = null;
    SignalHandler term = null;
    SignalHandler interrupt = null;
    try {
      query =
          listing.writeStream()
              .queryName(runId())
              .option("checkpointLocation", settings.checkpoint().uri())
              .trigger(settings.intervalMillis() == 0
                  ? Trigger.AvailableNow() : Trigger.ProcessingTime(settings.intervalMillis()))
              .foreachBatch((VoidFunction2<Dataset<Row>, Long>) this::process)
              .start();
      term = Signal.handle(new Signal("TERM"), s -> requestStop("SIGTERM"));
      interrupt = Signal.handle(new Signal("INT"), s -> requestStop("SIGINT"));
      LOG.info("stream {}: reading new files of {} ({}), checkpoint {}", runId(), settings.input(),
          settings.intervalMillis() == 0 ? "available now" : "every " + settings.intervalMillis() + " ms",
          settings.checkpoint().uri());
      while (!query.awaitTermination(200)) {
        if (stopRequested.get() && !busy.get()) {
          query.stop();
        }
      }
    } finally {
      spark.streams().removeListener(listener);
      if (term != null) {
        Signal.handle(new Signal("TERM"), term);
      }
      if (interrupt != null) {
        Signal.handle(new Signal("INT"), interrupt);
      }
      if (query != null && query.isActive()) {
        stopQuietly(query);
      }
    }
    return new Outcome(batches.get(), files.get(), accepted.get(), rejected.get(), stopRequested.get());
  }

  private void requestStop(String signal) {
    if (stopRequested.compareAndSet(false, true)) {
      LOG.info("stream {}: {} received, stopping after the current batch", runId(), signal);
    }
  }

  private static void stopQuietly(StreamingQuery query) {
    try {
      query.stop();
    } catch (TimeoutException e) {
      LOG.warn("stream {}: the query did not stop in time", query.name(), e);
    }
  }

  /** One micro-batch: decode, score, write everywhere. Runs on the driver, in the query's thread. */
  void process(Dataset<Row> batch, Long batchId) throws Exception {
    busy.set(true);
    long t0 = System.nanoTime();
    List<Row> read = batch.collectAsList();
    long oldest = System.currentTimeMillis();
    java.util.Set<String> seen = new java.util.HashSet<>();
    List<Row> listing = new java.util.ArrayList<>();
    for (Row r : read) {
      oldest = Math.min(oldest, r.getTimestamp(2).getTime());
      seen.add(r.getString(0));
      listing.add(RowFactory.create(r.getString(0), r.getLong(1)));
    }
    // zero-byte files give the reader no split to read: they come from the source's own log, and
    // the decode check rejects them ("empty file") like any unusable file
    listing.addAll(emptyFiles(batchId, seen));
    List<Row> listed = listing;
    if (listed.isEmpty()) {
      return;
    }
    Timestamp at = new Timestamp(System.currentTimeMillis());
    LOG.info("stream {}: batch {}: {} new files", runId(), batchId, listed.size());
    long nAccepted;
    long nRejected;
    try (IngestResult ingested =
        ImageIngest.ingestListed(spark, listing, settings.exifOrientation(), "stream " + runId() + " batch " + batchId)) {
      nAccepted = ingested.accepted();
      nRejected = ingested.rejected();
      Scored scored =
          nAccepted > 0 ? scorer.score(ingested.images()) : new Scored(spark.createDataFrame(List.of(), scorer.schema()), null);
      Dataset<Row> predictions = StreamRows.predictions(scored.rows(), runId(), batchId, at).persist();
      try {
        Dataset<Row> rejects = StreamRows.rejects(ingested.rejects(), runId(), batchId, at);
        for (BatchSink sink : sinks) {
          sink.write(predictions, rejects, runId(), batchId);
          LOG.info("stream {}: batch {} written to {}", runId(), batchId, sink.describe());
        }
      } finally {
        predictions.unpersist();
        if (scored.release() != null) {
          scored.release().close();
        }
      }
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    long now = System.currentTimeMillis();
    batches.incrementAndGet();
    files.addAndGet(listed.size());
    accepted.addAndGet(nAccepted);
    rejected.addAndGet(nRejected);
    LOG.info(String.format(Locale.ROOT,
        "stream %s: batch %d: %d files, %d accepted, %d rejected, %.1f img/s, latency %.1f s (took %.1f s)",
        runId(), batchId, listed.size(), nAccepted, nRejected, seconds > 0 ? nAccepted / seconds : 0.0,
        (now - oldest) / 1000.0, seconds));
  }

  /**
   * The zero-byte files the file source took into batch {@code batchId}, from its log in the
   * checkpoint ({@code sources/0/<batch>}, or the compacted log that holds it): Spark's reader
   * makes no split of an empty file, so the batch's rows never show them. Empty on any trouble
   * reading the log (logged): the other files are processed as ever.
   */
  private List<Row> emptyFiles(long batchId, java.util.Set<String> seen) {
    try {
      org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
      org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(settings.checkpoint().uri(), "sources/0");
      org.apache.hadoop.fs.FileSystem fs = dir.getFileSystem(conf);
      org.apache.hadoop.fs.Path log = new org.apache.hadoop.fs.Path(dir, Long.toString(batchId));
      if (!fs.exists(log)) {
        log = new org.apache.hadoop.fs.Path(dir, batchId + ".compact");
      }
      List<Row> empty = new java.util.ArrayList<>();
      String text;
      try (java.io.InputStream in = fs.open(log)) {
        text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      }
      for (String line : text.split("\n")) {
        if (!line.startsWith("{")) {
          continue; // the log's version line
        }
        java.util.Map<String, Object> entry = io.bottleneck.io.Json.parseObject(line, log.toString());
        String path = String.valueOf(entry.get("path"));
        if (((Number) entry.get("batchId")).longValue() != batchId || seen.contains(path)) {
          continue;
        }
        org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(java.net.URI.create(path));
        try {
          if (file.getFileSystem(conf).getFileStatus(file).getLen() == 0) {
            empty.add(RowFactory.create(path, 0L));
          }
        } catch (java.io.FileNotFoundException gone) {
          // deleted since it was listed: nothing to report
        }
      }
      return empty;
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("stream {}: batch {}: cannot read the file source's log ({}); zero-byte files of this batch are not"
          + " reported", runId(), batchId, e.toString());
      return List.of();
    }
  }

  /** Clears {@link #busy} when the query reports progress: after a batch's commit. */
  private final class CommitListener extends StreamingQueryListener {
    @Override
    public void onQueryStarted(QueryStartedEvent event) {}

    @Override
    public void onQueryProgress(QueryProgressEvent event) {
      if (runId().equals(event.progress().name())) {
        busy.set(false);
      }
    }

    @Override
    public void onQueryIdle(QueryIdleEvent event) {}

    @Override
    public void onQueryTerminated(QueryTerminatedEvent event) {}
  }
}
