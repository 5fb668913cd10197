package io.bottleneck.nets.tf;

import com.sun.jna.Library;
import com.sun.jna.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.proto.framework.ConfigProto;

/**
 * Process-wide TensorFlow settings that must be in place before the first TF session. TF reads
 * them through the C library's environment once, as its native library loads (a
 * {@code System.getenv} map change would not reach it), so this sets them there with JNA
 * (already bundled through DL4J's oshi), each unless the user set it either way. It must run
 * before any TF class loads the natives; {@link TfGraphBase} calls it first.
 *
 * <ul>
 *   <li>{@code TF_ENABLE_ONEDNN_OPTS=1}: the TF 2.10 natives of TensorFlow Java 0.5.0 are built
 *       with oneDNN but leave its graph rewrites off without it, and MobileNet 0.25 then runs
 *       ~3x slower (measured 51 vs 145 ms per batch of 16; 8.1 vs 3.2 ms per image on an AVX2
 *       CPU). {@code =0} keeps oneDNN off. Features match DL4J's to within 1e-4 either way.
 *   <li>{@code TF_OVERRIDE_GLOBAL_THREADPOOL=1}: without it every session in the JVM shares one
 *       process-wide intra-op pool, sized by the first session (one thread here), so two Spark
 *       tasks running forward passes at once queue on that one thread: measured 325 img/s on
 *       two threads against 250 on one, with 1.5 of 2 cores busy. With it each session (one per
 *       task thread) gets its own one-thread pool: 500 img/s on two threads.
 * </ul>
 */
public final class TfRuntime {

  private static final Logger LOG = LoggerFactory.getLogger(TfRuntime.class);
  static final String ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS";
  static final String OWN_POOLS_VARIABLE = "TF_OVERRIDE_GLOBAL_THREADPOOL";

  /** libc's setenv(3), for the variables TF reads with getenv(3). */
  interface CLibrary extends Library {
    int setenv(String name, String value, int overwrite);
  }

  private static boolean done;

  private TfRuntime() {}

  /** Sets up the environment once, before this JVM's first TF session; later calls do nothing. */
  public static synchronized void init() {
    if (done) {
      return;
    }
    done = true;
    CLibrary libc;
    try {
      libc = (CLibrary) Native.loadLibrary("c", CLibrary.class);
    } catch (UnsatisfiedLinkError | RuntimeException e) {
      // not fatal: TF works without these settings, only slower; say so and how to fix it
      LOG.warn("TensorFlow: cannot reach libc to set {}=1 and {}=1 ({}); the TF engine runs"
          + " slower. Set them in the environment.", ONEDNN_VARIABLE, OWN_POOLS_VARIABLE,
          e.toString(), e);
      return;
    }
    setUnlessSet(libc, ONEDNN_VARIABLE, "without oneDNN, ~3x slower");
    setUnlessSet(libc, OWN_POOLS_VARIABLE, "with one intra-op thread for all tasks");
  }

  /**
   * The session settings of every TF session here: {@link TfGraphBase#INTRA_OP_THREADS}
   * intra-op and {@link TfGraphBase#INTER_OP_THREADS} inter-op threads.
   */
  public static ConfigProto sessionConfig() {
    return ConfigProto.newBuilder()
        .setIntraOpParallelismThreads(TfGraphBase.INTRA_OP_THREADS)
        .setInterOpParallelismThreads(TfGraphBase.INTER_OP_THREADS)
        .build();
  }

  private static void setUnlessSet(CLibrary libc, String variable, String otherwise) {
    String set = System.getenv(variable);
    if (set != null) {
      LOG.info("TensorFlow: {}={} from the environment", variable, set);
      return;
    }
    // overwrite 0: a value set natively by someone else since the JVM started wins
    int rc = libc.setenv(variable, "1", 0);
    if (rc != 0) {
      LOG.warn("TensorFlow: setenv({}) failed (rc {}); the TF engine runs {}. Set {}=1 in the"
          + " environment.", variable, rc, otherwise, variable);
    }
  }
}
