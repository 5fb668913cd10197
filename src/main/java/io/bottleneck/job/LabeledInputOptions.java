package io.bottleneck.job;

import java.util.Map;
import picocli.CommandLine.Option;

/** The labeled images that pipeline trains on and evaluate scores ({@code @Mixin}), and where their labels come from. */
final class LabeledInputOptions {
  @Option(names = "--input", paramLabel = "URI", description = "Labeled images (key: input).")
  String input;

  @Option(names = "--label-from", paramLabel = "dir|filename|manifest:URI", description = "Where labels come from (key: label-from).")
  String labelFrom;

  /** The options as configuration keys, as {@link JobCommand#options} puts them. */
  void options(Map<String, Object> keys) {
    keys.put("input", input);
    keys.put("label-from", labelFrom);
  }
}
