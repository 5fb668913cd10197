package io.bottleneck.job;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a short helper command (python3, bash) from the project root and captures its output. */
final class Processes {
  record Result(int exitCode, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
    }
  }

  private Processes() {}

  static Result run(Map<String, String> env, List<String> command) throws IOException, InterruptedException {
    return run(env, command, 2);
  }

  static Result run(Map<String, String> env, List<String> command, int minutes) throws IOException, InterruptedException {
    Path out = Files.createTempFile("helper-out", ".txt");
    Path err = Files.createTempFile("helper-err", ".txt");
    try {
      ProcessBuilder pb =
          new ProcessBuilder(command).directory(Launcher.ROOT.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(minutes, TimeUnit.MINUTES)) {
        p.destroyForcibly();
        throw new AssertionError(command + " did not finish in " + minutes + " minutes");
      }
      return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }
}
