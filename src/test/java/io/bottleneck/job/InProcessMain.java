package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.io.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/** Runs {@link Main#run} in this JVM with stdout and stderr captured. */
final class InProcessMain {
  record Outcome(int exitCode, String stdout, String stderr) {
    Map<String, Object> lastLineJson() {
      List<String> lines = stdout.lines().filter(l -> !l.isBlank()).toList();
      assertThat(lines).as("stdout; stderr: " + stderr).isNotEmpty();
      return Json.parseObject(lines.get(lines.size() - 1), "last stdout line");
    }
  }

  private InProcessMain() {}

  /** Synchronized: System.out and System.err are process-wide. */
  static synchronized Outcome run(String... args) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    try {
      System.setOut(new PrintStream(stdout, true, StandardCharsets.UTF_8));
      System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
      int code = Main.run(args);
      return new Outcome(code, stdout.toString(StandardCharsets.UTF_8), stderr.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(out);
      System.setErr(err);
    }
  }
}
