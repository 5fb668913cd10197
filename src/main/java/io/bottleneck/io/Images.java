package io.bottleneck.io;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferInt;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.spi.IIORegistry;
import javax.imageio.spi.ImageReaderSpi;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes image files to {@link BufferedImage#TYPE_INT_RGB}: JPEG (also grayscale, CMYK and
 * YCCK, through TwelveMonkeys), PNG (alpha, palette, 16-bit, gray), GIF (first frame), BMP, and
 * through TwelveMonkeys WebP (lossy, lossless; first frame) and TIFF (first page).
 *
 * <p>The format is sniffed from the leading bytes, never from the file name, and the image size
 * is read from the header before any pixel is decoded, so a decompression bomb is refused
 * without allocating it. Reader warnings count as errors (a JPEG cut short still "decodes", gray
 * at the bottom, with only a warning) except those about metadata the pixels do not depend on:
 * thumbnails, ICC profiles, Exif. Alpha is dropped, not composited, as PIL's
 * {@code convert("RGB")} does in the Keras preprocessing that pretrained models assume; gray is
 * replicated to R=G=B from the raw samples (Java2D's {@code getRGB} would gamma-brighten it).
 *
 * <p>Thread-safe: every call creates its own reader; the reader providers are looked up once.
 */
public final class Images {
  private Images() {}

  /** Images above this many pixels are refused: 100 MP decodes to 400 MB as int RGB. */
  public static final long MAX_PIXELS = 100_000_000L;

  private static final int MAX_DETAIL = 160;

  /** Warnings about metadata that decoding the pixels does not use. */
  private static final Pattern BENIGN_WARNING =
      Pattern.compile(
          "thumbnail|icc|color profile|exif|jfif revision|app14", Pattern.CASE_INSENSITIVE);

  private static final Logger LOG = LoggerFactory.getLogger(Images.class);

  private enum Format {
    JPEG("jpeg"),
    PNG("png"),
    GIF("gif"),
    BMP("bmp"),
    WEBP("webp"),
    TIFF("tiff");

    final String readerName;

    Format(String readerName) {
      this.readerName = readerName;
    }

    /** Formats read by TwelveMonkeys' reader rather than the JDK's (which has none, or reads fewer files). */
    boolean twelveMonkeys() {
      return this == JPEG || this == WEBP || this == TIFF;
    }
  }

  /**
   * Decodes {@code bytes} to an RGB image.
   *
   * @param name used in the exception message only (usually the file's path)
   * @throws UndecodableImageException with a short {@link UndecodableImageException#reason()}
   */
  public static BufferedImage decode(byte[] bytes, String name) throws UndecodableImageException {
    return toRgb(decodeAsRead(bytes, name));
  }

  /**
   * As {@link #decode}, then turned upright by the JPEG's Exif orientation when
   * {@code exifOrientation} ({@link ExifOrientation}); as stored otherwise.
   */
  public static BufferedImage decode(byte[] bytes, String name, boolean exifOrientation)
      throws UndecodableImageException {
    BufferedImage stored = decode(bytes, name);
    return exifOrientation ? ExifOrientation.apply(stored, ExifOrientation.of(bytes)) : stored;
  }

  /** As {@link #decodedSize(byte[], String)}, width and height swapped for orientations 5-8 when {@code exifOrientation}. */
  public static int[] decodedSize(byte[] bytes, String name, boolean exifOrientation)
      throws UndecodableImageException {
    int[] size = decodedSize(bytes, name);
    return exifOrientation && ExifOrientation.swapsSides(ExifOrientation.of(bytes))
        ? new int[] {size[1], size[0]}
        : size;
  }

  /**
   * Decodes {@code bytes} completely, exactly as {@link #decode} does and with the same
   * failures, and returns {@code {width, height}}: for validation, which needs no RGB copy.
   */
  public static int[] decodedSize(byte[] bytes, String name) throws UndecodableImageException {
    BufferedImage image = decodeAsRead(bytes, name);
    return new int[] {image.getWidth(), image.getHeight()};
  }

  /** The image as the reader produced it (any type), after every check. */
  private static BufferedImage decodeAsRead(byte[] bytes, String name) throws UndecodableImageException {
    if (bytes == null || bytes.length == 0) {
      throw new UndecodableImageException(name, "empty file");
    }
    Format format = sniff(bytes, name);
    long[] size = headerSize(format, bytes, name);
    if (size != null) {
      checkSize(size[0], size[1], name);
    }

    ImageReader reader = Readers.create(format);
    ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes));
    try {
      List<String> warnings = new ArrayList<>();
      reader.addIIOReadWarningListener((source, message) -> warnings.add(message));
      reader.setInput(in, true, false);
      BufferedImage image;
      try {
        // The reader's idea of the size can differ from the header (a GIF frame larger than its
        // screen), so check again before the pixels are allocated.
        checkSize(reader.getWidth(0), reader.getHeight(0), name);
        image = reader.read(0);
      } catch (IOException | RuntimeException e) {
        // Readers report malformed data with all kinds of runtime exceptions, not just IIO ones.
        throw corrupt(format, detail(e), name, e);
      }
      for (String warning : warnings) {
        if (!BENIGN_WARNING.matcher(warning).find()) {
          throw corrupt(format, warning, name, null);
        }
      }
      return image;
    } finally {
      reader.dispose();
      close(in);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Format sniffing

  private static Format sniff(byte[] b, String name) throws UndecodableImageException {
    if (startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
      return Format.JPEG;
    }
    if (startsWith(b, 0, 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A)) {
      return Format.PNG;
    }
    if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) {
      return Format.GIF;
    }
    if (ascii(b, 0, "BM") && b.length >= 18 && isBmpHeaderSize(le32(b, 14))) {
      return Format.BMP;
    }
    if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) {
      return Format.WEBP;
    }
    if (startsWith(b, 0, 'I', 'I', 0x2A, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2A)) {
      return Format.TIFF;
    }
    String unsupported = unsupportedFormat(b);
    if (unsupported != null) {
      throw new UndecodableImageException(name, "unsupported format: " + unsupported);
    }
    throw new UndecodableImageException(name, "not an image: unrecognized format");
  }

  /** Image formats that are recognized but not decoded, so the reason can name them. */
  private static String unsupportedFormat(byte[] b) {
    if (startsWith(b, 0, 'I', 'I', 0x2B, 0x00) || startsWith(b, 0, 'M', 'M', 0x00, 0x2B)) {
      return "bigtiff";
    }
    if (ascii(b, 4, "ftyp")) {
      String brand = b.length >= 12 ? new String(b, 8, 4, StandardCharsets.US_ASCII) : "";
      switch (brand) {
        case "heic": case "heix": case "hevc": case "hevx": case "heim": case "heis":
        case "mif1": case "msf1":
          return "heif";
        case "avif": case "avis":
          return "avif";
        default:
          return null;
      }
    }
    if (ascii(b, 0, "8BPS")) {
      return "psd";
    }
    if (startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'j', 'P', ' ', ' ')
        || startsWith(b, 0, 0xFF, 0x4F, 0xFF, 0x51)) {
      return "jpeg2000";
    }
    if (startsWith(b, 0, 0xFF, 0x0A)
        || startsWith(b, 0, 0x00, 0x00, 0x00, 0x0C, 'J', 'X', 'L', ' ')) {
      return "jpegxl";
    }
    return null;
  }

  private static boolean isBmpHeaderSize(long dibSize) {
    return dibSize == 12 || dibSize == 16 || dibSize == 40 || dibSize == 52 || dibSize == 56
        || dibSize == 64 || dibSize == 108 || dibSize == 124;
  }

  // ---------------------------------------------------------------------------------------------
  // Header sizes, read before decoding

  /**
   * {width, height} as the file header states them; null for TIFF, whose size is in an IFD
   * anywhere in the file: there the reader's own header read (before any pixel) is the check.
   */
  private static long[] headerSize(Format format, byte[] b, String name)
      throws UndecodableImageException {
    switch (format) {
      case WEBP:
        return webpSize(b, name);
      case TIFF:
        return null;
      case JPEG:
        return jpegFrameSize(b, name);
      case PNG:
        if (b.length < 24 || !ascii(b, 12, "IHDR")) {
          throw corrupt(format, "no IHDR header", name, null);
        }
        return new long[] {be32(b, 16), be32(b, 20)};
      case GIF:
        if (b.length < 10) {
          throw corrupt(format, "header too short", name, null);
        }
        return new long[] {le16(b, 6), le16(b, 8)};
      case BMP:
        if (le32(b, 14) == 12) {
          if (b.length < 22) {
            throw corrupt(format, "header too short", name, null);
          }
          return new long[] {le16(b, 18), le16(b, 20)};
        }
        if (b.length < 26) {
          throw corrupt(format, "header too short", name, null);
        }
        // A negative height means top-down row order, not a negative size.
        return new long[] {Math.abs((long) (int) le32(b, 18)), Math.abs((long) (int) le32(b, 22))};
      default:
        throw new IllegalStateException("no header parser for " + format);
    }
  }

  /** The canvas size from the first chunk: VP8X (extended), VP8L (lossless) or VP8 (lossy). */
  private static long[] webpSize(byte[] b, String name) throws UndecodableImageException {
    if (b.length < 30) {
      throw corrupt(Format.WEBP, "header too short", name, null);
    }
    // The reader decodes what it has of a file cut short, silently: the RIFF size tells
    if (le32(b, 4) + 8 > b.length) {
      throw corrupt(Format.WEBP, "file truncated: " + b.length + " of " + (le32(b, 4) + 8) + " bytes", name, null);
    }
    if (ascii(b, 12, "VP8X")) {
      return new long[] {le24(b, 24) + 1, le24(b, 27) + 1};
    }
    if (ascii(b, 12, "VP8L")) {
      if ((b[20] & 0xFF) != 0x2F) {
        throw corrupt(Format.WEBP, "no lossless signature", name, null);
      }
      long bits = le32(b, 21);
      return new long[] {(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
    }
    if (ascii(b, 12, "VP8 ")) {
      if (!startsWith(b, 23, 0x9D, 0x01, 0x2A)) {
        throw corrupt(Format.WEBP, "no key frame start code", name, null);
      }
      return new long[] {le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF};
    }
    throw corrupt(Format.WEBP, "unknown first chunk " + new String(b, 12, 4, StandardCharsets.ISO_8859_1), name, null);
  }

  private static void checkSize(long width, long height, String name)
      throws UndecodableImageException {
    if (width <= 0 || height <= 0) {
      throw new UndecodableImageException(name, "zero-size image");
    }
    if (width * height > MAX_PIXELS) {
      throw new UndecodableImageException(name, "image too large: " + width + "x" + height);
    }
  }

  /**
   * Walks the JPEG marker segments up to the end-of-image marker and returns the size from the
   * first frame header. A file cut short never reaches EOI; bytes after EOI (camera and app
   * trailers, appended videos of "motion photos") are allowed.
   */
  private static long[] jpegFrameSize(byte[] b, String name) throws UndecodableImageException {
    int n = b.length;
    int i = 2; // after SOI
    long width = -1;
    long height = -1;
    while (true) {
      if (i >= n) {
        throw corrupt(Format.JPEG, "no end-of-image marker (file truncated)", name, null);
      }
      if ((b[i] & 0xFF) != 0xFF) {
        throw corrupt(Format.JPEG, "expected a marker at byte " + i, name, null);
      }
      while (i < n && (b[i] & 0xFF) == 0xFF) {
        i++; // fill bytes before a marker
      }
      if (i >= n) {
        throw corrupt(Format.JPEG, "no end-of-image marker (file truncated)", name, null);
      }
      int marker = b[i++] & 0xFF;
      if (marker == 0xD9) {
        if (width < 0) {
          throw corrupt(Format.JPEG, "no frame header", name, null);
        }
        return new long[] {width, height};
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        continue; // markers without a length
      }
      if (marker == 0x00 || marker == 0xD8) {
        String where = String.format("unexpected marker 0x%02X at byte %d", marker, i - 1);
        throw corrupt(Format.JPEG, where, name, null);
      }
      if (i + 2 > n) {
        throw corrupt(Format.JPEG, "no end-of-image marker (file truncated)", name, null);
      }
      int length = (int) be16(b, i);
      if (length < 2) {
        throw corrupt(Format.JPEG, "bad segment length at byte " + i, name, null);
      }
      if (i + length > n) {
        throw corrupt(Format.JPEG, "no end-of-image marker (file truncated)", name, null);
      }
      if (isStartOfFrame(marker) && width < 0) {
        if (length < 7) {
          throw corrupt(Format.JPEG, "frame header too short", name, null);
        }
        height = be16(b, i + 3);
        width = be16(b, i + 5);
      }
      i += length;
      if (marker == 0xDA) {
        i = skipEntropyCodedData(b, i);
      }
    }
  }

  /** Returns the index of the next marker's 0xFF after a scan header, or {@code b.length}. */
  private static int skipEntropyCodedData(byte[] b, int i) {
    int n = b.length;
    while (i + 1 < n) {
      if ((b[i] & 0xFF) == 0xFF) {
        int next = b[i + 1] & 0xFF;
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
          i += 2; // stuffed 0xFF byte or restart marker: still scan data
          continue;
        }
        if (next != 0xFF) {
          return i;
        }
      }
      i++;
    }
    return n;
  }

  private static boolean isStartOfFrame(int marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
  }

  /**
   * True for the common JPEG that any libjpeg-family decoder turns into the same pixels as
   * {@link #decode}: Huffman-coded (baseline, extended or progressive), 8-bit, gray or YCbCr
   * (component ids 1, 2, 3) with 4:4:4, 4:2:2 or 4:2:0 chroma, and no Adobe (APP14) or ICC
   * profile (APP2) segment, which make decoders differ in colour conversion. Reads the
   * segments before the first scan only; says nothing about whether the rest decodes. Callers
   * use it to pick a faster decoder for these files and {@link #decode} for all others.
   */
  public static boolean isPlainJpeg(byte[] b) {
    if (b == null || !startsWith(b, 0, 0xFF, 0xD8, 0xFF)) {
      return false;
    }
    int n = b.length;
    int i = 2;
    boolean frame = false;
    while (i + 4 <= n && (b[i] & 0xFF) == 0xFF) {
      int marker = b[i + 1] & 0xFF;
      if (marker == 0xFF) {
        i++; // fill byte
        continue;
      }
      int length = (int) be16(b, i + 2);
      int body = i + 4;
      if (length < 2 || i + 2 + length > n) {
        return false;
      }
      if (marker == 0xEE && ascii(b, body, "Adobe")
          || marker == 0xE2 && ascii(b, body, "ICC_PROFILE")) {
        return false;
      }
      if (isStartOfFrame(marker)) {
        if (frame || !plainFrame(marker, b, body, length - 2)) {
          return false;
        }
        frame = true;
      }
      if (marker == 0xDA) {
        return frame; // the first scan: everything that decides the colour handling came before
      }
      i += 2 + length;
    }
    return false;
  }

  /** The frame header of a plain JPEG (see {@link #isPlainJpeg}); {@code body} is after the length. */
  private static boolean plainFrame(int marker, byte[] b, int body, int bodyLength) {
    if (marker > 0xC2 || bodyLength < 6 || (b[body] & 0xFF) != 8) {
      return false; // lossless, arithmetic-coded, hierarchical or 12-bit
    }
    int components = b[body + 5] & 0xFF;
    if (bodyLength < 6 + 3 * components) {
      return false;
    }
    if (components == 1) {
      return true;
    }
    if (components != 3) {
      return false;
    }
    int[] sampling = new int[3];
    for (int c = 0; c < 3; c++) {
      int at = body + 6 + 3 * c;
      if ((b[at] & 0xFF) != c + 1) {
        return false; // other ids may mean RGB, which decoders guess differently
      }
      sampling[c] = b[at + 1] & 0xFF;
    }
    boolean chromaFull = sampling[1] == 0x11 && sampling[2] == 0x11;
    return chromaFull && (sampling[0] == 0x11 || sampling[0] == 0x21 || sampling[0] == 0x22);
  }

  // ---------------------------------------------------------------------------------------------
  // Conversion to RGB

  /**
   * Fast path for the JPEG reader's usual output (3 or 4 interleaved byte bands, RGB colour
   * space): reads the bytes directly, as getRGB's per-pixel colour-model calls made the
   * conversion slower than the JPEG decode itself. Returns false when it does not apply.
   */
  private static boolean copyInterleavedBytes(BufferedImage src, int[] out) {
    int type = src.getType();
    if (type != BufferedImage.TYPE_3BYTE_BGR && type != BufferedImage.TYPE_4BYTE_ABGR) {
      return false;
    }
    Raster raster = src.getRaster();
    if (!(raster.getDataBuffer() instanceof DataBufferByte buffer)
        || !(raster.getSampleModel() instanceof ComponentSampleModel model)
        || buffer.getNumBanks() != 1) {
      return false;
    }
    byte[] data = buffer.getData();
    int pixelStride = model.getPixelStride();
    int scanlineStride = model.getScanlineStride();
    int[] offsets = model.getBandOffsets(); // bands in colour-model order: R, G, B (, A)
    int originX = -raster.getSampleModelTranslateX();
    int originY = -raster.getSampleModelTranslateY();
    int w = src.getWidth();
    int h = src.getHeight();
    for (int y = 0; y < h; y++) {
      int p = buffer.getOffset() + (y + originY) * scanlineStride + originX * pixelStride;
      int row = y * w;
      for (int x = 0; x < w; x++, p += pixelStride) {
        out[row + x] =
            (data[p + offsets[0]] & 0xFF) << 16 | (data[p + offsets[1]] & 0xFF) << 8 | (data[p + offsets[2]] & 0xFF);
      }
    }
    return true;
  }

  static BufferedImage toRgb(BufferedImage src) {
    if (src.getType() == BufferedImage.TYPE_INT_RGB) {
      return src;
    }
    int w = src.getWidth();
    int h = src.getHeight();
    BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    int[] out = ((DataBufferInt) dst.getRaster().getDataBuffer()).getData();
    if (copyInterleavedBytes(src, out)) {
      return dst;
    }
    ColorModel cm = src.getColorModel();
    int transfer = src.getRaster().getTransferType();
    boolean gray = !(cm instanceof IndexColorModel)
        && cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY
        && (transfer == DataBuffer.TYPE_BYTE || transfer == DataBuffer.TYPE_USHORT);
    if (gray) {
      Raster raster = src.getRaster();
      int bits = cm.getComponentSize(0);
      long max = (1L << bits) - 1;
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          int v = bits == 8 ? row[x] : (int) ((row[x] * 255L + max / 2) / max);
          out[y * w + x] = (v << 16) | (v << 8) | v;
        }
      }
    } else {
      src.getRGB(0, 0, w, h, out, 0, w);
      for (int i = 0; i < out.length; i++) {
        out[i] &= 0xFFFFFF; // drop alpha
      }
    }
    return dst;
  }

  // ---------------------------------------------------------------------------------------------
  // Readers

  /** Reader providers, looked up once per JVM (lazily, on the first decode). */
  static final class Readers {
    private static final String TWELVEMONKEYS = "com.twelvemonkeys.";
    private static final Map<Format, ImageReaderSpi> PROVIDERS = load();

    static ImageReader create(Format format) {
      try {
        return PROVIDERS.get(format).createReaderInstance();
      } catch (IOException e) {
        throw new UncheckedIOException("Cannot create an ImageIO reader for " + format, e);
      }
    }

    static Map<Format, ImageReaderSpi> load() {
      // ImageIO registers plugins found by the class loader of the thread that first touches
      // it; on an executor that may not be the one that sees the job jar. Rescanning from this
      // (task) thread adds them.
      ImageIO.scanForPlugins();
      IIORegistry registry = IIORegistry.getDefaultInstance();
      registerIfMissing(registry, "jpeg", new com.twelvemonkeys.imageio.plugins.jpeg.JPEGImageReaderSpi());
      registerIfMissing(registry, "webp", new com.twelvemonkeys.imageio.plugins.webp.WebPImageReaderSpi());
      registerIfMissing(registry, "tiff", new com.twelvemonkeys.imageio.plugins.tiff.TIFFImageReaderSpi());
      Map<Format, ImageReaderSpi> providers = new EnumMap<>(Format.class);
      for (Format format : Format.values()) {
        ImageReaderSpi spi = find(registry, format.readerName, format.twelveMonkeys() ? TWELVEMONKEYS : "");
        if (spi == null) {
          throw new IllegalStateException("No ImageIO reader for " + format.readerName);
        }
        providers.put(format, spi);
      }
      LOG.debug("Image readers: {}", providers);
      return providers;
    }

    /**
     * A jar shaded without merging META-INF/services, or a class loader ImageIO did not scan,
     * loses a plugin's registration: the reader is then registered by hand.
     */
    private static void registerIfMissing(IIORegistry registry, String format, ImageReaderSpi spi) {
      if (find(registry, format, TWELVEMONKEYS) == null) {
        LOG.warn("TwelveMonkeys {} reader not registered through ServiceLoader; registering it", format);
        registry.registerServiceProvider(spi);
      }
    }

    /** The first provider in registry order that reads {@code format} and is from {@code pkg}. */
    private static ImageReaderSpi find(IIORegistry registry, String format, String pkg) {
      Iterator<ImageReaderSpi> it = registry.getServiceProviders(ImageReaderSpi.class, true);
      while (it.hasNext()) {
        ImageReaderSpi spi = it.next();
        boolean reads = Arrays.stream(spi.getFormatNames()).anyMatch(format::equalsIgnoreCase);
        if (reads && spi.getClass().getName().startsWith(pkg)) {
          return spi;
        }
      }
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private static UndecodableImageException corrupt(
      Format format, String detail, String name, Throwable cause) {
    String d = detail.length() > MAX_DETAIL ? detail.substring(0, MAX_DETAIL) + "..." : detail;
    return new UndecodableImageException(
        name, "truncated or corrupt " + format.name() + ": " + d, cause);
  }

  private static String detail(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank()
        ? e.getClass().getSimpleName()
        : message.strip().replaceAll("\\s+", " ");
  }

  private static void close(ImageInputStream in) {
    try {
      in.close();
    } catch (IOException e) {
      // An in-memory stream has nothing to fail on; if it does, it is a bug, not a bad image.
      throw new UncheckedIOException("Cannot close an in-memory image stream", e);
    }
  }

  private static boolean startsWith(byte[] b, int offset, int... expected) {
    if (b.length < offset + expected.length) {
      return false;
    }
    for (int k = 0; k < expected.length; k++) {
      if ((b[offset + k] & 0xFF) != expected[k]) {
        return false;
      }
    }
    return true;
  }

  private static boolean ascii(byte[] b, int offset, String s) {
    if (b.length < offset + s.length()) {
      return false;
    }
    return new String(b, offset, s.length(), StandardCharsets.ISO_8859_1).equals(s);
  }

  private static long be16(byte[] b, int i) {
    return ((b[i] & 0xFFL) << 8) | (b[i + 1] & 0xFFL);
  }

  private static long be32(byte[] b, int i) {
    return (be16(b, i) << 16) | be16(b, i + 2);
  }

  private static long le16(byte[] b, int i) {
    return (b[i] & 0xFFL) | ((b[i + 1] & 0xFFL) << 8);
  }

  private static long le24(byte[] b, int i) {
    return le16(b, i) | ((b[i + 2] & 0xFFL) << 16);
  }

  private static long le32(byte[] b, int i) {
    return le16(b, i) | (le16(b, i + 2) << 16);
  }
}
