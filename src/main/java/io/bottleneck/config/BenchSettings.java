package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The bench.* keys, read and checked: the benchmark runs in local mode on a local work
 * directory, so bench.work-dir must be a path or a {@code file:} URI.
 *
 * @param scale image counts of the scaling run (may be empty)
 */
record BenchSettings(int images, List<Integer> scale, String input, String workDir, long seed) {
  private static final Pattern URI_SCHEME = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://");

  static BenchSettings read(ConfigValues v) {
    int images = v.positive("bench.images");
    List<Integer> scale = List.copyOf(v.plainIntList("bench.scale"));
    for (int n : scale) {
      if (n < 1) {
        throw invalid("bench.scale", scale, "a list of positive image counts");
      }
    }
    String input = v.string("bench.input");
    if (input.isEmpty()) {
      throw invalid("bench.input", "\"\"", "a directory URI or path");
    }
    String workDir = v.string("bench.work-dir");
    if (workDir.isEmpty() || (URI_SCHEME.matcher(workDir).lookingAt() && !workDir.startsWith("file:"))) {
      throw invalid("bench.work-dir", workDir.isEmpty() ? "\"\"" : workDir, "a local directory (a path or file: URI)");
    }
    return new BenchSettings(images, scale, input, workDir, v.longValue("bench.seed"));
  }
}
