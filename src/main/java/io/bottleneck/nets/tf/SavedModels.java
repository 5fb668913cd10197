package io.bottleneck.nets.tf;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * A SavedModel directory ({@code saved_model.pb} + {@code variables/}) as one byte array, so it
 * travels like any other model file: broadcast to the executors, hashed into cache keys, copied
 * into a model bundle as one file. The packing is a zip of the directory's files, stored
 * uncompressed, entries sorted by path, every timestamp the same: the same files always give
 * the same bytes, hence the same SHA-256.
 */
public final class SavedModels {

  /** The graph file every SavedModel holds at its root. */
  public static final String GRAPH_FILE = "saved_model.pb";
  private static final String TEXT_GRAPH_FILE = "saved_model.pbtxt";
  private static final LocalDateTime FIXED_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);
  private static final long MAX_BYTES = Integer.MAX_VALUE - 64L * 1024 * 1024;

  /** Unpacked copies in this JVM, by the packed bytes' SHA-256. */
  private static final Map<String, Path> UNPACKED = new ConcurrentHashMap<>();
  private static final List<Path> TO_DELETE = new ArrayList<>();
  private static boolean hookAdded;

  private SavedModels() {}

  /** Thrown when a directory is not a SavedModel (no {@code saved_model.pb} at its root). */
  public static final class NotSavedModelException extends IllegalArgumentException {
    NotSavedModelException(String message) {
      super(message);
    }
  }

  /**
   * Packs the SavedModel directory at {@code uri} (any Hadoop FileSystem URI). A file whose name
   * ends in {@code .zip} is taken as already packed (as a model bundle holds it).
   *
   * @throws NotSavedModelException when there is no {@code saved_model.pb} at its root
   * @throws IOException when it cannot be read (also when it does not exist)
   */
  public static byte[] pack(String uri, Configuration conf) throws IOException {
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(uri);
    FileSystem fs = root.getFileSystem(conf);
    FileStatus status = fs.getFileStatus(root); // FileNotFoundException names the path
    if (!status.isDirectory()) {
      if (root.getName().endsWith(".zip")) {
        byte[] packed;
        try (InputStream in = fs.open(root)) {
          packed = in.readAllBytes();
        }
        checkPacked(packed, uri);
        return packed;
      }
      throw new NotSavedModelException(uri + " is a file, not a SavedModel directory (one holding "
          + GRAPH_FILE + " and variables/)");
    }
    String prefix = fs.makeQualified(root).toUri().getPath();
    prefix = prefix.endsWith("/") ? prefix : prefix + "/";
    TreeMap<String, org.apache.hadoop.fs.Path> files = new TreeMap<>();
    long total = 0;
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(root, true);
    while (it.hasNext()) {
      LocatedFileStatus f = it.next();
      String path = f.getPath().toUri().getPath();
      if (!path.startsWith(prefix)) {
        throw new IOException("Listing " + uri + " gave " + f.getPath() + ", outside it");
      }
      String name = path.substring(prefix.length());
      if (hidden(name)) {
        continue; // the local file system's checksum files (.x.crc) and other hidden files
      }
      files.put(name, f.getPath());
      total += f.getLen();
      if (total > MAX_BYTES) {
        throw new IOException("The SavedModel at " + uri + " is over 2 GB: it cannot travel as one"
            + " array; freeze or quantize it, or convert it to ONNX");
      }
    }
    if (!files.containsKey(GRAPH_FILE) && !files.containsKey(TEXT_GRAPH_FILE)) {
      throw new NotSavedModelException(uri + " is not a SavedModel directory: it has no " + GRAPH_FILE
          + (files.isEmpty() ? " (it is empty)" : " at its root (it holds " + preview(files.keySet()) + ")"));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(total + 4096, MAX_BYTES));
    try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, org.apache.hadoop.fs.Path> e : files.entrySet()) {
        byte[] content;
        try (InputStream in = fs.open(e.getValue())) {
          content = in.readAllBytes();
        }
        zip.putNextEntry(storedEntry(e.getKey(), content));
        zip.write(content);
        zip.closeEntry();
      }
    }
    return bytes.toByteArray();
  }

  /**
   * The directory of a packed SavedModel in this JVM: unpacked into a temporary directory on
   * first use per {@code sha256} (deleted when the JVM exits), the same directory afterwards.
   */
  public static Path unpacked(byte[] packed, String sha256) {
    return UNPACKED.computeIfAbsent(sha256, k -> {
      try {
        Path dir = Files.createTempDirectory("bottleneck-savedmodel-");
        deleteOnExit(dir);
        unpack(packed, dir);
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot unpack a SavedModel into a temporary directory: "
            + e.getMessage(), e);
      }
    });
  }

  /** Unpacks {@code packed} into the empty directory {@code dir}. */
  static void unpack(byte[] packed, Path dir) throws IOException {
    Path root = dir.toAbsolutePath().normalize();
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(packed))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        Path target = root.resolve(e.getName()).normalize();
        if (!target.startsWith(root) || target.equals(root)) {
          throw new IOException("Packed SavedModel entry '" + e.getName() + "' is outside its directory");
        }
        if (e.isDirectory()) {
          Files.createDirectories(target);
          continue;
        }
        Files.createDirectories(target.getParent());
        Files.copy(zip, target);
      }
    }
  }

  private static void checkPacked(byte[] packed, String uri) throws IOException {
    try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(packed))) {
      for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
        if (e.getName().equals(GRAPH_FILE) || e.getName().equals(TEXT_GRAPH_FILE)) {
          return;
        }
      }
    }
    throw new NotSavedModelException(uri + " is not a packed SavedModel: it has no " + GRAPH_FILE
        + " at its root");
  }

  private static ZipEntry storedEntry(String name, byte[] content) {
    ZipEntry entry = new ZipEntry(name);
    entry.setMethod(ZipEntry.STORED);
    entry.setSize(content.length);
    entry.setCompressedSize(content.length);
    CRC32 crc = new CRC32();
    crc.update(content);
    entry.setCrc(crc.getValue());
    entry.setTimeLocal(FIXED_TIME); // DOS time as is: no time zone in the bytes
    return entry;
  }

  private static boolean hidden(String relative) {
    for (String part : relative.split("/")) {
      if (part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  private static String preview(java.util.Collection<String> names) {
    List<String> first = names.stream().limit(5).toList();
    return String.join(", ", first) + (names.size() > first.size() ? ", ..." : "");
  }

  private static synchronized void deleteOnExit(Path dir) {
    TO_DELETE.add(dir);
    if (!hookAdded) {
      hookAdded = true;
      Runtime.getRuntime().addShutdownHook(new Thread(SavedModels::deleteAll, "savedmodel-cleanup"));
    }
  }

  private static synchronized void deleteAll() {
    for (Path dir : TO_DELETE) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      } catch (IOException | RuntimeException ignored) {
        // best effort at exit: a temporary directory left behind is harmless
      }
    }
  }
}
