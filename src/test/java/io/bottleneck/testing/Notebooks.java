package io.bottleneck.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.bottleneck.io.Json;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Executes a notebook of notebooks/ with Debian's Jupyter (jupyter nbconvert --execute), as CI does. */
public final class Notebooks {
  public static final String JUPYTER = "/usr/bin/jupyter";

  /** An executed notebook: nbconvert's exit code and log, and the notebook with its outputs. */
  public record Executed(int exitCode, String log, JsonNode notebook) {
    /** Outputs of all code cells holding a PNG image (plots). */
    public int images() {
      int n = 0;
      for (JsonNode cell : notebook.path("cells")) {
        for (JsonNode out : cell.path("outputs")) {
          if (out.path("data").has("image/png")) {
            n++;
          }
        }
      }
      return n;
    }

    /** Outputs of type "error" (nbconvert stops at the first, but be explicit). */
    public int errors() {
      int n = 0;
      for (JsonNode cell : notebook.path("cells")) {
        for (JsonNode out : cell.path("outputs")) {
          if (out.path("output_type").asText().equals("error")) {
            n++;
          }
        }
      }
      return n;
    }
  }

  private Notebooks() {}

  public static Executed execute(Path notebook, Map<String, String> env, Path outDir) throws Exception {
    if (!new File(JUPYTER).canExecute()) {
      throw new IllegalStateException(JUPYTER + " is missing: run submit/dev/install-test-deps.sh "
          + "(installs jupyter-nbconvert, python3-nbclient, python3-ipykernel, python3-pandas, python3-matplotlib)");
    }
    Files.createDirectories(outDir);
    Path log = outDir.resolve(notebook.getFileName() + ".log");
    ProcessBuilder pb = new ProcessBuilder(List.of(
            JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=300",
            "--output-dir", outDir.toString(), notebook.toAbsolutePath().toString()))
        .directory(notebook.toAbsolutePath().getParent().toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    pb.environment().put("PYDEVD_DISABLE_FILE_VALIDATION", "1");
    Process p = pb.start();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(notebook + " did not finish in 10 minutes");
    }
    Path executed = outDir.resolve(notebook.getFileName());
    JsonNode nb = Files.exists(executed) ? Json.mapper().readTree(executed.toFile()) : Json.mapper().createObjectNode();
    return new Executed(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8), nb);
  }
}
