package io.bottleneck.nets;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;

/**
 * Local folders holding the data files a model reads beside itself (ONNX external data), one
 * per JVM and model hash: ONNX Runtime opens such a model from a file path and finds its data
 * files relative to that file's folder, so the files must lie on local disk at their
 * locations. A local source is hard-linked (or copied), a Hadoop one ({@code hdfs:}, {@code
 * s3a:}) copied, once.
 * A folder appears complete or not at all (built aside, then renamed). The folders live under
 * a root of this JVM's own, deleted when it exits: a later process never trusts links or copies
 * it did not check itself.
 */
public final class ModelFiles {

  /** Where one data file comes from. */
  public interface Source {
    /** Puts the file at {@code target} (whose folder exists). */
    void placeAt(Path target) throws IOException;
  }

  /**
   * A file on this machine's disk, hard-linked into the folder (no copy) where the file system
   * allows, else copied. Not a symbolic link: ONNX Runtime resolves links and refuses data files
   * whose real path leaves the model's folder.
   */
  public static Source local(Path file) {
    Path source = file.toAbsolutePath();
    return target -> {
      try {
        Files.createLink(target, source.toRealPath());
      } catch (IOException | UnsupportedOperationException e) {
        Files.copy(source, target);
      }
    };
  }

  /** A file on a Hadoop file system, copied into the folder. */
  public static Source hadoop(String uri, Configuration conf) {
    return target -> {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(uri);
      try (InputStream in = FileSystem.get(p.toUri(), conf).open(p)) {
        Files.copy(in, target);
      }
    };
  }

  private static final Object LOCK = new Object();

  private ModelFiles() {}

  private static Path root;

  /** This JVM's root of the folders, {@code <java.io.tmpdir>/bottleneck-models-<random>}. */
  static Path root() throws IOException {
    synchronized (LOCK) {
      if (root == null) {
        Path made = Files.createTempDirectory("bottleneck-models-");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteRecursively(made), "bottleneck-models-cleanup"));
        root = made;
      }
      return root;
    }
  }

  /** A folder of this JVM's, {@code name} under its root, deleted with the root when the JVM exits. */
  public static Path scratch(String name) throws IOException {
    return Files.createDirectories(root().resolve("scratch").resolve(name));
  }

  /** A folder made by {@link #folder}: where it is and the model's combined hash. */
  public record Folder(Path path, String sha256) {}

  /**
   * The folder of a model's data files, each at its location: the existing one when this JVM or
   * another process on the host already made it for {@code expectedSha256}, else a new one from
   * {@code sources}, whose {@link #sha256 combined hash} with {@code model} must equal {@code
   * expectedSha256} (null: any, the caller learns it from the result).
   *
   * @throws IllegalArgumentException when the files' hash differs from the expected one
   */
  public static Folder folder(byte[] model, Map<String, Source> sources, String expectedSha256) {
    synchronized (LOCK) {
      try {
        if (expectedSha256 != null && Files.isDirectory(root().resolve(expectedSha256))) {
          return new Folder(root().resolve(expectedSha256), expectedSha256);
        }
        Path building = Files.createTempDirectory(root(), "building-");
        try {
          for (Map.Entry<String, Source> e : new TreeMap<>(sources).entrySet()) {
            Path target = building.resolve(e.getKey()).normalize();
            if (!target.startsWith(building)) {
              throw new IllegalArgumentException("Data file location '" + e.getKey() + "' leaves the model's folder");
            }
            Files.createDirectories(target.getParent());
            e.getValue().placeAt(target);
          }
          String sha = sha256(model, building, List.copyOf(new TreeMap<>(sources).keySet()));
          if (expectedSha256 != null && !sha.equals(expectedSha256)) {
            throw new IllegalArgumentException("The model and its data files have SHA-256 " + sha
                + ", not the expected " + expectedSha256 + ": a file changed since the model was checked");
          }
          Path done = root().resolve(sha);
          if (Files.isDirectory(done)) {
            deleteRecursively(building); // made before in this JVM: the same files
            return new Folder(done, sha);
          }
          Files.move(building, done, StandardCopyOption.ATOMIC_MOVE);
          return new Folder(done, sha);
        } catch (IOException | RuntimeException e) {
          deleteRecursively(building);
          throw e;
        }
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot gather the data files of the model: " + e.getMessage(), e);
      }
    }
  }

  /**
   * SHA-256 of a model and its data files: the model's bytes, then for each location in the
   * given order its UTF-8 name, a 0 byte and the file's bytes (read through links). Without
   * locations: the SHA-256 of the model's bytes alone, as for a self-contained file.
   */
  public static String sha256(byte[] model, Path folder, List<String> locations) throws IOException {
    MessageDigest digest = digest();
    digest.update(model);
    byte[] buffer = new byte[1 << 16];
    for (String location : locations) {
      digest.update(location.getBytes(StandardCharsets.UTF_8));
      digest.update((byte) 0);
      try (InputStream in = new DigestInputStream(Files.newInputStream(folder.resolve(location)), digest)) {
        while (in.read(buffer) >= 0) {
          // the digest reads along
        }
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  /** Total bytes of the files at {@code locations} under {@code folder}. */
  public static long size(Path folder, List<String> locations) throws IOException {
    long total = 0;
    for (String location : locations) {
      total += Files.size(folder.resolve(location));
    }
    return total;
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteRecursively(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | UncheckedIOException e) {
      // a leftover in the temporary folder is harmless
    }
  }
}
