package io.bottleneck.config;

import static io.bottleneck.config.ConfigValues.invalid;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The stream.* keys, read and checked: the checkpoint folder, the trigger and the files per
 * micro-batch.
 *
 * @param checkpoint empty: not set, which the stream command refuses
 * @param trigger available-now, or processing-time:&lt;interval&gt;
 * @param intervalMillis the processing-time interval in milliseconds; 0 for available-now
 */
record StreamSettings(String checkpoint, String trigger, long intervalMillis, int maxFilesPerTrigger) {

  private static final Pattern INTERVAL =
      Pattern.compile("processing-time:(\\d{1,9})\\s*(ms|s|sec|seconds?|m|min|minutes?|h|hours?)");

  static StreamSettings read(ConfigValues v) {
    String trigger = v.string("stream.trigger");
    return new StreamSettings(v.string("stream.checkpoint"), trigger, intervalMillis(trigger),
        v.positive("stream.max-files-per-trigger"));
  }

  /** 0 for available-now; the interval of processing-time:&lt;n&gt;&lt;unit&gt; in milliseconds. */
  private static long intervalMillis(String trigger) {
    if (trigger.equals("available-now")) {
      return 0;
    }
    Matcher m = INTERVAL.matcher(trigger);
    long n = m.matches() ? Long.parseLong(m.group(1)) : 0;
    if (n <= 0) {
      throw invalid("stream.trigger", trigger,
          "available-now or processing-time:<interval> with a positive interval such as 30s, 500ms, 5m or 1h");
    }
    String unit = m.group(2);
    long scale = unit.equals("ms") ? 1 : unit.startsWith("s") ? 1_000 : unit.startsWith("m") ? 60_000 : 3_600_000;
    return n * scale;
  }
}
