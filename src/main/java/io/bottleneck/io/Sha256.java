package io.bottleneck.io;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256, the hash of content hashes, model checksums and the split's seeded order. */
public final class Sha256 {
  private Sha256() {}

  /** A new digest: not thread-safe, so one per task or per loop, reused across its inputs. */
  public static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("Every JVM provides SHA-256", e);
    }
  }

  /** Lowercase hex SHA-256 of {@code bytes}, as Spark SQL's {@code sha2(_, 256)} writes it. */
  public static String hex(byte[] bytes) {
    return hex(digest(), bytes);
  }

  /** As {@link #hex(byte[])} with a digest the caller reuses. */
  public static String hex(MessageDigest digest, byte[] bytes) {
    return HexFormat.of().formatHex(digest.digest(bytes));
  }
}
