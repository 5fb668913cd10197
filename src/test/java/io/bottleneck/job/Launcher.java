package io.bottleneck.job;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs submit/bottleneck as a user would, capturing exit code, stdout and stderr. */
final class Launcher {
  record Result(int exitCode, String stdout, String stderr, double seconds) {
    List<String> stdoutLines() {
      return stdout.lines().filter(l -> !l.isBlank()).toList();
    }

    String lastLine() {
      List<String> lines = stdoutLines();
      return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    @Override
    public String toString() {
      return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr (tail)\n"
          + stderr.substring(Math.max(0, stderr.length() - 6000));
    }
  }

  static final Path ROOT = Path.of("").toAbsolutePath();

  private Launcher() {}

  static Result run(Path workDir, String... args) throws IOException, InterruptedException {
    return run(workDir, Map.of(), args);
  }

  /** With these variables added to the environment (e.g. credentials a user exports). */
  static Result run(Path workDir, Map<String, String> environment, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("submit/bottleneck").toString());
    command.addAll(List.of(args));
    Path out = Files.createTempFile("bottleneck-out", ".txt");
    Path err = Files.createTempFile("bottleneck-err", ".txt");
    long t0 = System.nanoTime();
    ProcessBuilder builder =
        new ProcessBuilder(command).directory(workDir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
    builder.environment().putAll(environment);
    Process p = builder.start();
    if (!p.waitFor(15, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("bottleneck " + String.join(" ", args) + " did not finish in 15 minutes");
    }
    Result r =
        new Result(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8),
            (System.nanoTime() - t0) / 1e9);
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  static File sample(String name) {
    return ROOT.resolve("data/sample").resolve(name).toFile();
  }
}
