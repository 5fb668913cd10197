package io.bottleneck.train;

import org.nd4j.linalg.api.blas.Blas;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One BLAS thread in this JVM while open; the previous count is restored when the last holder
 * closes it. Spark already runs one task per core, and in local mode the executors are this JVM:
 * with BLAS's default of one thread per core, every task's matrix products start that many
 * threads, which on a small machine wait on each other (they spin) instead of computing. The
 * setting is process-wide, hence the count of holders, and it is restored so work outside
 * training (a single-threaded fit on the driver, featurization) keeps its threads.
 */
final class SingleThreadedBlas implements AutoCloseable {
  private static final Object LOCK = new Object();
  private static int holders;
  private static int previousThreads;

  private boolean closed;

  private SingleThreadedBlas() {}

  static SingleThreadedBlas open() {
    synchronized (LOCK) {
      if (holders == 0) {
        Blas blas = Nd4j.factory().blas();
        previousThreads = blas.getMaxThreads();
        blas.setMaxThreads(1);
      }
      holders++;
    }
    return new SingleThreadedBlas();
  }

  @Override
  public void close() {
    synchronized (LOCK) {
      if (closed) {
        return;
      }
      closed = true;
      holders--;
      if (holders == 0) {
        Nd4j.factory().blas().setMaxThreads(previousThreads);
      }
    }
  }

  /** BLAS threads in this JVM now. */
  static int currentThreads() {
    return Nd4j.factory().blas().getMaxThreads();
  }
}
