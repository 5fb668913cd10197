package io.bottleneck.io;

/**
 * A file that is not a usable image. {@link #reason()} is the short, human reason that ingest
 * records for the file ("empty file", "unsupported format: webp", ...); the message adds the
 * file name.
 */
public final class UndecodableImageException extends Exception {
  private static final long serialVersionUID = 1L;

  private final String name;
  private final String reason;

  public UndecodableImageException(String name, String reason) {
    super(name + ": " + reason);
    this.name = name;
    this.reason = reason;
  }

  public UndecodableImageException(String name, String reason, Throwable cause) {
    super(name + ": " + reason, cause);
    this.name = name;
    this.reason = reason;
  }

  /** The file's name or path, as given to the decoder. */
  public String name() {
    return name;
  }

  /** The short reason without the file name, e.g. "zero-size image". */
  public String reason() {
    return reason;
  }
}
