package io.bottleneck.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * Peak memory of this JVM while it is open: a daemon thread samples the process resident set
 * size (JavaCPP's {@link Pointer#physicalBytes()}, which covers the heap, ND4J's off-heap
 * buffers and native code alike) and the heap in use every period. In Spark local mode the
 * executors are this JVM, so this is the peak executor memory.
 *
 * <p>Heap in use includes garbage not yet collected, so its peak says as much about the
 * collector's pacing as about live data; RSS seldom shrinks, so compare it with
 * {@link #startRssBytes()}.
 */
public final class PeakMemory implements AutoCloseable {
  private final ScheduledExecutorService timer;
  private final MemoryMXBean heap = ManagementFactory.getMemoryMXBean();
  private final long startRss;
  private final AtomicLong peakRss = new AtomicLong();
  private final AtomicLong peakHeap = new AtomicLong();
  private final AtomicLong samples = new AtomicLong();

  private PeakMemory(long periodMillis) {
    startRss = Pointer.physicalBytes();
    sample();
    timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-peak-memory");
              t.setDaemon(true);
              return t;
            });
    timer.scheduleAtFixedRate(this::sample, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  /** Starts sampling now, every {@code periodMillis}. */
  public static PeakMemory start(long periodMillis) {
    if (periodMillis < 1) {
      throw new IllegalArgumentException("period must be positive but was " + periodMillis);
    }
    return new PeakMemory(periodMillis);
  }

  private void sample() {
    peakRss.accumulateAndGet(Pointer.physicalBytes(), Math::max);
    peakHeap.accumulateAndGet(heap.getHeapMemoryUsage().getUsed(), Math::max);
    samples.incrementAndGet();
  }

  /** Stops sampling (after one last sample); the peaks stay readable. Idempotent. */
  @Override
  public void close() {
    if (!timer.isShutdown()) {
      timer.shutdown();
      try {
        timer.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      sample();
    }
  }

  /** Resident set size when sampling started. */
  public long startRssBytes() {
    return startRss;
  }

  public long peakRssBytes() {
    return peakRss.get();
  }

  public long peakHeapBytes() {
    return peakHeap.get();
  }

  public long samples() {
    return samples.get();
  }
}
