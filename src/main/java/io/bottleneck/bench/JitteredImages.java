package io.bottleneck.bench;

import io.bottleneck.io.Images;
import io.bottleneck.io.Json;
import io.bottleneck.io.Sha256;
import io.bottleneck.io.UndecodableImageException;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Distinct benchmark images derived from a few source images: copy {@code i} is source
 * {@code i mod k} with a seeded random crop (85–100% of each side, random offset, so also a
 * shift), a horizontal flip half of the time and a brightness factor in [0.8, 1.2], re-encoded
 * as JPEG at quality 0.9. Every copy has different bytes (checked by SHA-256), so the feature
 * cache, keyed by content hash, cannot dedupe them.
 *
 * <p>The copies go to a local folder as {@code <label>.<index>.jpg} (labels stay readable with
 * {@code --label-from filename}); a marker file {@value #MARKER}, written last, records what
 * was generated, and a later call with the same count, seed and origin reuses the folder
 * instead of generating again. Output depends only on the sources, the seed and the count, not
 * on the number of threads.
 */
public final class JitteredImages {
  private static final Logger LOG = LoggerFactory.getLogger(JitteredImages.class);

  /** Written after the last image; hidden from ingest (leading underscore). */
  static final String MARKER = "_bench-images.json";
  static final int VERSION = 1;
  static final float JPEG_QUALITY = 0.9f;
  private static final String LABEL_WHEN_NONE = "unlabeled";

  /** One source image: label (may be null), encoded bytes, name for messages. */
  public record Source(String label, byte[] bytes, String name) {
    public Source {
      Objects.requireNonNull(bytes, "bytes");
      Objects.requireNonNull(name, "name");
    }
  }

  /** The folder, its images in index order, and whether an earlier run's images were reused. */
  public record Generated(Path dir, List<Path> files, boolean reused) {}

  private JitteredImages() {}

  /**
   * Makes sure {@code dir} holds exactly {@code count} jittered copies of {@code sources} made
   * with {@code seed}: reuses them when the marker matches and the count of images is right,
   * otherwise deletes the folder's images and generates them (on all cores).
   *
   * @param origin where the sources come from (recorded in the marker; a different origin
   *     regenerates)
   */
  public static Generated ensure(List<Source> sources, Path dir, int count, long seed, String origin)
      throws IOException {
    if (sources.isEmpty()) {
      throw new IllegalArgumentException("No source images to derive benchmark images from");
    }
    if (count < 1) {
      throw new IllegalArgumentException("count must be positive but was " + count);
    }
    Files.createDirectories(dir);
    Map<String, Object> marker = marker(count, seed, origin, sources.size());
    Path markerFile = dir.resolve(MARKER);
    List<Path> existing = images(dir);
    if (Files.isRegularFile(markerFile) && existing.size() == count) {
      Map<String, Object> found = Json.parseObject(Files.readString(markerFile), markerFile.toString());
      if (marker.equals(found)) {
        LOG.info("bench: reusing the {} images in {}", count, dir);
        return new Generated(dir, existing, true);
      }
    }
    Files.deleteIfExists(markerFile);
    for (Path p : existing) {
      Files.delete(p);
    }
    long t0 = System.nanoTime();
    List<Path> files = generate(sources, dir, count, seed);
    Files.writeString(markerFile, Json.pretty(marker));
    LOG.info(
        "bench: generated {} images in {} from {} sources in {} s",
        count, dir, sources.size(), String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9));
    return new Generated(dir, files, false);
  }

  private static Map<String, Object> marker(int count, long seed, String origin, int sources) {
    // Values as Jackson reads them back (ints stay Integer when they fit), so equals works.
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("version", VERSION);
    m.put("count", count);
    m.put("seed", Json.parseObject("{\"v\":" + seed + "}", "seed").get("v"));
    m.put("origin", origin);
    m.put("sources", sources);
    m.put("jpeg_quality", (double) JPEG_QUALITY);
    return m;
  }

  /** The {@code *.jpg} files of {@code dir} in index order (then by name). */
  static List<Path> images(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.jpg")) {
      for (Path p : files) {
        out.add(p);
      }
    }
    out.sort(Comparator.comparingLong(JitteredImages::indexOf).thenComparing(Comparator.naturalOrder()));
    return out;
  }

  /** The index in {@code <label>.<index>.jpg}, or -1 for other names. */
  private static long indexOf(Path file) {
    String name = file.getFileName().toString();
    int end = name.lastIndexOf('.');
    int start = name.lastIndexOf('.', end - 1);
    if (start < 0 || end - start < 2) {
      return -1;
    }
    try {
      return Long.parseLong(name.substring(start + 1, end));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** File name of copy {@code index}: {@code <label>.<index, 7 digits>.jpg}. */
  static String fileName(String label, int index) {
    String safe = label == null || label.isEmpty() ? LABEL_WHEN_NONE : label.replaceAll("[^A-Za-z0-9_-]", "_");
    return String.format(Locale.ROOT, "%s.%07d.jpg", safe, index);
  }

  private static List<Path> generate(List<Source> sources, Path dir, int count, long seed)
      throws IOException {
    String[] hashes = new String[count];
    Path[] files = new Path[count];
    for (int i = 0; i < count; i++) {
      files[i] = dir.resolve(fileName(sources.get(i % sources.size()).label(), i));
    }
    int threads = Math.max(1, Math.min(count, Runtime.getRuntime().availableProcessors()));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "bench-jitter");
      t.setDaemon(true);
      return t;
    });
    AtomicInteger next = new AtomicInteger();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        done.add(pool.submit(() -> {
          for (int i = next.getAndIncrement(); i < count; i = next.getAndIncrement()) {
            hashes[i] = write(files[i], copy(sources, i, seed, 0));
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("Interrupted while generating benchmark images", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      throw new IOException("Cannot generate benchmark images", cause);
    } finally {
      pool.shutdownNow();
    }
    // Collisions are settled in index order, so the result does not depend on the threads.
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < count; i++) {
      int attempt = 0;
      while (!seen.add(hashes[i])) {
        attempt++;
        if (attempt > 100) {
          throw new IllegalStateException("Cannot make image " + i + " distinct from the others");
        }
        hashes[i] = write(files[i], copy(sources, i, seed, attempt));
      }
    }
    return List.of(files);
  }

  /** The JPEG bytes of copy {@code index} (deterministic in sources, index, seed, attempt). */
  static byte[] copy(List<Source> sources, int index, long seed, int attempt) {
    Source source = sources.get(index % sources.size());
    BufferedImage image;
    try {
      image = Images.decode(source.bytes(), source.name());
    } catch (UndecodableImageException e) {
      throw new IllegalArgumentException("Source image " + source.name() + " does not decode: " + e.reason(), e);
    }
    return encodeJpeg(jitter(image, random(seed, index, attempt)));
  }

  static Random random(long seed, int index, int attempt) {
    long x = seed * 0x9E3779B97F4A7C15L + index * 0xBF58476D1CE4E5B9L + attempt * 0x94D049BB133111EBL;
    return new Random(x ^ (x >>> 31));
  }

  /** Random crop (85–100% of each side, at a random offset), flip, brightness x[0.8, 1.2]. */
  static BufferedImage jitter(BufferedImage src, Random rnd) {
    int w = src.getWidth();
    int h = src.getHeight();
    int cw = Math.max(1, (int) Math.round(w * (0.85 + 0.15 * rnd.nextDouble())));
    int ch = Math.max(1, (int) Math.round(h * (0.85 + 0.15 * rnd.nextDouble())));
    int x0 = rnd.nextInt(w - cw + 1);
    int y0 = rnd.nextInt(h - ch + 1);
    boolean flip = rnd.nextBoolean();
    float gain = (float) (0.8 + 0.4 * rnd.nextDouble());
    int[] px = src.getRGB(x0, y0, cw, ch, null, 0, cw);
    BufferedImage out = new BufferedImage(cw, ch, BufferedImage.TYPE_INT_RGB);
    int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    for (int y = 0; y < ch; y++) {
      for (int x = 0; x < cw; x++) {
        int p = px[y * cw + (flip ? cw - 1 - x : x)];
        int r = scale(p >>> 16 & 0xFF, gain);
        int g = scale(p >>> 8 & 0xFF, gain);
        int b = scale(p & 0xFF, gain);
        dst[y * cw + x] = r << 16 | g << 8 | b;
      }
    }
    return out;
  }

  private static int scale(int v, float gain) {
    return Math.min(255, Math.round(v * gain));
  }

  static byte[] encodeJpeg(BufferedImage image) {
    Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
    if (!writers.hasNext()) {
      throw new IllegalStateException("No ImageIO JPEG writer");
    }
    ImageWriter writer = writers.next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(JPEG_QUALITY);
      writer.setOutput(out);
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot encode a JPEG in memory", e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** Writes atomically (temp file + move) and returns the hex SHA-256 of the bytes. */
  private static String write(Path file, byte[] bytes) throws IOException {
    Path tmp = file.resolveSibling("_" + file.getFileName() + ".tmp");
    Files.write(tmp, bytes);
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return sha256(bytes);
  }

  static String sha256(byte[] bytes) {
    return Sha256.hex(bytes);
  }
}
