package io.bottleneck.features;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Process-wide TensorFlow settings that must be in place before the first TF session.
 *
 * <p>The TF 2.10 natives of TensorFlow Java 0.5.0 are built with oneDNN but leave its graph
 * rewrites off unless the environment variable {@code TF_ENABLE_ONEDNN_OPTS=1} is set: without
 * it MobileNet 0.25 runs ~3x slower (measured 51 vs 145 ms per batch of 16). TF reads the
 * variable through the C library's environment once, as its native library loads (a
 * {@code System.getenv} map change would not reach it), so this sets it there with JNA (already
 * bundled through DL4J's oshi) unless the user set it either way: {@code TF_ENABLE_ONEDNN_OPTS=0}
 * keeps oneDNN off. It must run before any TF class loads the natives; {@link TfGraphBase} calls
 * it first. Features match DL4J's to within 1e-4 with or without oneDNN.
 */
final class TfRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(TfRuntime.class);
  static final String ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS";

  /** libc's setenv(3), for the variables TF reads with getenv(3). */
  interface CLibrary extends Library {
    int setenv(String name, String value, int overwrite);
  }

  private static boolean done;

  private TfRuntime() {}

  /** Sets up the environment once, before this JVM's first TF session; later calls do nothing. */
  static synchronized void init() {
    if (done) {
      return;
    }
    done = true;
    String set = System.getenv(ONEDNN_VARIABLE);
    if (set != null) {
      LOG.info("TensorFlow: {}={} from the environment", ONEDNN_VARIABLE, set);
      return;
    }
    try {
      CLibrary libc = (CLibrary) Native.loadLibrary("c", CLibrary.class);
      // overwrite 0: a value set natively by someone else since the JVM started wins
      int rc = libc.setenv(ONEDNN_VARIABLE, "1", 0);
      if (rc != 0) {
        LOG.warn("TensorFlow: setenv({}) failed (rc {}); the TF engine runs without oneDNN,"
            + " ~3x slower. Set {}=1 in the environment.", ONEDNN_VARIABLE, rc, ONEDNN_VARIABLE);
      }
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      // not fatal: TF works without oneDNN, only slower; say so and how to fix it
      LOG.warn("TensorFlow: cannot set {} through libc ({}); the TF engine runs without"
          + " oneDNN, ~3x slower. Set {}=1 in the environment.", ONEDNN_VARIABLE, e.toString(),
          ONEDNN_VARIABLE, e);
    }
  }
}
