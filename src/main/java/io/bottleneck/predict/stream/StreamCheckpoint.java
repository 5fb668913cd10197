package io.bottleneck.predict.stream;

import io.bottleneck.config.ConfigError;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;

/**
 * What a checkpoint folder belongs to, in {@code <checkpoint>/bottleneck-stream.json} next to
 * Spark's own files: the run id and the input. Batch ids count on in a checkpoint, so the key
 * (run_id, batch_id) of a batch's rows is stable across restarts only if the run id is: a
 * restart with another run id, or another input, is refused.
 */
public record StreamCheckpoint(String uri, String runId, String input, boolean fresh) {
  public static final String FILE = "bottleneck-stream.json";

  /**
   * The checkpoint's run id: the stored one (a given one must match it), else {@code given},
   * else {@code generated}.
   *
   * @throws ConfigError when the given run id or the input differs from the stored ones
   */
  public static StreamCheckpoint open(String uri, String given, String generated, String input, Configuration conf)
      throws IOException {
    String file = HadoopFiles.child(uri, FILE);
    if (!HadoopFiles.exists(file, conf)) {
      return new StreamCheckpoint(uri, given.isEmpty() ? generated : given, input, true);
    }
    Map<String, Object> stored = Json.parseObject(HadoopFiles.readString(file, conf), file);
    String runId = String.valueOf(stored.get("run_id"));
    if (!given.isEmpty() && !given.equals(runId)) {
      throw new ConfigError(
          "--run-id " + given + " does not match run id " + runId + " of --checkpoint " + uri
              + ": batches of one checkpoint keep one run id; leave --run-id out, or give a new checkpoint");
    }
    String storedInput = String.valueOf(stored.get("input"));
    if (!storedInput.equals(input)) {
      throw new ConfigError(
          "--input " + input + " is not the input " + storedInput + " of --checkpoint " + uri
              + "; a checkpoint tracks the files of one input: give a new checkpoint");
    }
    return new StreamCheckpoint(uri, runId, input, false);
  }

  /** Records run id and input (once, before the first batch). */
  public void save(Configuration conf) throws IOException {
    if (!fresh) {
      return;
    }
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("run_id", runId);
    meta.put("input", input);
    HadoopFiles.writeString(HadoopFiles.child(uri, FILE), Json.pretty(meta), conf);
  }
}
