package io.bottleneck.features;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs featurization progress from the driver at a steady cadence: images done of total,
 * images/s, ETA. Counts come from an accumulator the tasks add to per partition, so the
 * grain is one partition (the featurizer keeps partitions small for this).
 */
final class FeaturizeProgress implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Featurizer.class);
  private final ScheduledExecutorService timer;
  private final LongAccumulator done;
  private final long total;
  private final long start = System.nanoTime();

  FeaturizeProgress(LongAccumulator done, long total, long periodSeconds) {
    this.done = done;
    this.total = total;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "featurize-progress");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::report, periodSeconds, periodSeconds, TimeUnit.SECONDS);
  }

  private void report() {
    long n = done.value();
    double seconds = (System.nanoTime() - start) / 1e9;
    double rate = n / seconds;
    String eta = rate > 0 ? String.format("%.0f s", (total - n) / rate) : "unknown";
    LOG.info(
        "featurize: {}/{} images ({}%), {} images/s, ETA {}",
        n, total, total == 0 ? 100 : n * 100 / total, String.format("%.1f", rate), eta);
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
