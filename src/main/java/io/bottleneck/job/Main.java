package io.bottleneck.job;

import io.bottleneck.config.ConfigError;
import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the job jar: {@code bottleneck <command> [--conf FILE] [--set key=value]...
 * [options]}. Exit codes: 0 success, 2 usage or configuration error (before Spark starts),
 * 1 failure at run time.
 */
@Command(
    name = "bottleneck",
    mixinStandardHelpOptions = true,
    version = "Bottleneck 0.1.0",
    description = "Transfer-learning image classification as a Spark batch job.",
    subcommands = {
      PipelineCommand.class,
      IngestCommand.class,
      SplitCommand.class,
      FeaturizeCommand.class,
      TrainCommand.class,
      EvaluateCommand.class,
      PredictCommand.class,
      StreamCommand.class,
      ExportCommand.class,
      BenchCommand.class,
      SqlCommand.class
    })
public final class Main implements Runnable {
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs one command and returns its exit code (for tests and embedding). */
  public static int run(String... args) {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (ex, cmd, parsed) -> {
          PrintWriter err = cmd.getErr();
          if (ex instanceof ConfigError) {
            err.println("bottleneck " + cmd.getCommandName() + ": " + ex.getMessage());
            err.flush();
            return USAGE;
          }
          LOG.error("bottleneck {} failed", cmd.getCommandName(), ex);
          err.println("bottleneck " + cmd.getCommandName() + " failed: " + rootMessage(ex));
          err.flush();
          return FAILED;
        });
    return cli.execute(args);
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: one of " + spec.subcommands().keySet());
  }

  private static String rootMessage(Throwable t) {
    Throwable cause = t;
    StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
    while (cause.getCause() != null && cause.getCause() != cause) {
      cause = cause.getCause();
      if (cause.getMessage() != null && !b.toString().contains(cause.getMessage())) {
        b.append(": ").append(cause.getMessage());
      }
    }
    return b.toString();
  }
}
