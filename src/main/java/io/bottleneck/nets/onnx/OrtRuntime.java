package io.bottleneck.nets.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The JVM's one ONNX Runtime environment, and the session options every Bottleneck session
 * uses.
 *
 * <p>The environment is created on a thread of its own with a large stack: ONNX Runtime 1.29
 * reads {@code /proc/self/cmdline} while it initialises, with stack use that grows with the
 * command line's length, and a JVM with a long class path (Spark's launcher and executors, a
 * Maven test JVM: 30 KB here) overflows a default 1-4 MB thread stack and dies with SIGSEGV
 * (measured: crashes at -Xss4m, runs at -Xss16m). Sessions created later, on any thread, do
 * not read it again.
 */
public final class OrtRuntime {

  /** Intra-op threads per session: Spark runs one task per core, as for TensorFlow. */
  public static final int INTRA_OP_THREADS = Integer.getInteger("bottleneck.onnx.intra-op-threads", 1);

  private static final AtomicReference<OrtEnvironment> ENVIRONMENT = new AtomicReference<>();

  private OrtRuntime() {}

  /** The environment, created on first use (see the class comment for why on its own thread). */
  public static OrtEnvironment environment() {
    OrtEnvironment env = ENVIRONMENT.get();
    if (env != null) {
      return env;
    }
    synchronized (OrtRuntime.class) {
      if (ENVIRONMENT.get() == null) {
        ENVIRONMENT.set(createOnLargeStack());
      }
      return ENVIRONMENT.get();
    }
  }

  /** Options of an inference session: all graph optimizations, {@link #INTRA_OP_THREADS}. */
  public static OrtSession.SessionOptions sessionOptions() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    options.setIntraOpNumThreads(INTRA_OP_THREADS);
    options.setInterOpNumThreads(1);
    options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    return options;
  }

  /** A session over a model's bytes with {@link #sessionOptions()}. */
  public static OrtSession session(byte[] model) throws OrtException {
    try (OrtSession.SessionOptions options = sessionOptions()) {
      return environment().createSession(model, options);
    }
  }

  /**
   * A session over a model file with {@link #sessionOptions()}: what a model with external data
   * needs, as ONNX Runtime finds its data files relative to the file's folder.
   */
  public static OrtSession session(Path model) throws OrtException {
    try (OrtSession.SessionOptions options = sessionOptions()) {
      return environment().createSession(model.toString(), options);
    }
  }

  private static OrtEnvironment createOnLargeStack() {
    long stack = (64L << 20) + 2048L * commandLineLength();
    AtomicReference<Object> result = new AtomicReference<>();
    Thread init = new Thread(null, () -> {
      try {
        // errors only: its warnings (shape merges, unused initializers) are not the user's to act on
        result.set(OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR));
      } catch (RuntimeException | Error e) {
        result.set(e);
      }
    }, "onnxruntime-init", stack);
    init.setDaemon(true);
    init.start();
    try {
      init.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while starting ONNX Runtime", e);
    }
    Object r = result.get();
    if (r instanceof OrtEnvironment env) {
      return env;
    }
    if (r instanceof RuntimeException e) {
      throw e;
    }
    if (r instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("ONNX Runtime did not start");
  }

  /** Bytes of this process's command line (/proc files report size 0: read them). */
  private static long commandLineLength() {
    try {
      return Files.readAllBytes(Path.of("/proc/self/cmdline")).length;
    } catch (IOException | RuntimeException e) {
      return 1 << 20; // not Linux, or unreadable: assume a long one
    }
  }
}
