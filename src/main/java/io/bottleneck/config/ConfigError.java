package io.bottleneck.config;

/**
 * A usage or configuration error: the job exits with code 2 before Spark starts. The message
 * names the option or key at fault.
 */
public final class ConfigError extends RuntimeException {
  public ConfigError(String message) {
    super(message);
  }

  public ConfigError(String message, Throwable cause) {
    super(message, cause);
  }
}
