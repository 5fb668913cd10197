package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;

class ImagesTest {

  // ---- fixtures --------------------------------------------------------------------------------

  /** A resource under src/test/resources/ingest. */
  static byte[] resource(String name) {
    try (InputStream in = ImagesTest.class.getResourceAsStream("/ingest/" + name)) {
      if (in == null) {
        throw new IllegalStateException("Missing test resource /ingest/" + name);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static byte[] encode(BufferedImage image, String format) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      if (!ImageIO.write(image, format, out)) {
        throw new IllegalStateException("No ImageIO writer for " + format);
      }
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static BufferedImage filled(int type, int w, int h, int argb) {
    BufferedImage image = new BufferedImage(w, h, type);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        image.setRGB(x, y, argb);
      }
    }
    return image;
  }

  /** The first 24 bytes of a PNG: signature and IHDR with the given size. */
  static byte[] pngHeader(long width, long height) {
    ByteBuffer ihdr = ByteBuffer.allocate(17);
    ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII));
    ihdr.putInt((int) width).putInt((int) height).put((byte) 8).put((byte) 2).put(new byte[3]);
    CRC32 crc = new CRC32();
    crc.update(ihdr.array());
    ByteBuffer png = ByteBuffer.allocate(8 + 4 + 17 + 4);
    png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
    png.putInt(13).put(ihdr.array()).putInt((int) crc.getValue());
    return png.array();
  }

  static String reason(byte[] bytes) {
    try {
      Images.decode(bytes, "x");
      throw new AssertionError("expected the image to be rejected");
    } catch (UndecodableImageException e) {
      return e.reason();
    }
  }

  static int rgb(BufferedImage image, int x, int y) {
    return image.getRGB(x, y) & 0xFFFFFF;
  }

  /** Each channel within {@code tolerance} of the expected one (JPEG is lossy). */
  static void assertColor(BufferedImage image, int x, int y, int expected, int tolerance) {
    int actual = rgb(image, x, y);
    for (int shift = 0; shift <= 16; shift += 8) {
      int a = (actual >> shift) & 0xFF;
      int e = (expected >> shift) & 0xFF;
      assertThat(Math.abs(a - e))
          .as("pixel (%d,%d) = %06x, expected about %06x", x, y, actual, expected)
          .isLessThanOrEqualTo(tolerance);
    }
  }

  // ---- accepted --------------------------------------------------------------------------------

  @Test
  void decodesColorJpegToIntRgb() throws Exception {
    BufferedImage image = Images.decode(resource("cat.5.jpg"), "cat.5.jpg");
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    assertThat(image.getWidth()).isEqualTo(175);
    assertThat(image.getHeight()).isEqualTo(144);
  }

  @Test
  void grayscaleJpegKeepsItsGrayLevelInAllThreeChannels() throws Exception {
    BufferedImage gray = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
    int[] samples = new int[16 * 16];
    Arrays.fill(samples, 100);
    gray.getRaster().setSamples(0, 0, 16, 16, 0, samples); // raw samples: setRGB would convert
    byte[] jpeg = encode(gray, "jpeg");
    BufferedImage image = Images.decode(jpeg, "gray.jpg");
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    // Java2D's getRGB would turn gray 100 into about 170 (linear -> sRGB); PIL keeps 100.
    assertColor(image, 8, 8, 0x646464, 2);
    int p = rgb(image, 8, 8);
    assertThat((p >> 16) & 0xFF).isEqualTo(p & 0xFF).isEqualTo((p >> 8) & 0xFF);
  }

  @Test
  void cmykAndYcckJpegsDecodeToTheirColors() throws Exception {
    // 64x48 Adobe JPEGs (APP14, transform 0 = CMYK, 2 = YCCK, inverted as Photoshop writes
    // them), quadrants cyan | magenta / yellow | black. The JDK reader refuses both.
    for (String name : List.of("cmyk.jpg", "ycck.jpg")) {
      BufferedImage image = Images.decode(resource(name), name);
      assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
      assertThat(image.getWidth()).isEqualTo(64);
      assertThat(image.getHeight()).isEqualTo(48);
      assertColor(image, 8, 8, 0x00FFFF, 8);
      assertColor(image, 56, 8, 0xFF00FF, 8);
      assertColor(image, 8, 40, 0xFFFF00, 8);
      assertColor(image, 56, 40, 0x000000, 8);
    }
  }

  @Test
  void pngAlphaIsDroppedNotComposited() throws Exception {
    BufferedImage argb = new BufferedImage(3, 2, BufferedImage.TYPE_INT_ARGB);
    argb.setRGB(0, 0, 0x80FF0000); // half-transparent red
    argb.setRGB(1, 0, 0x0000FF00); // fully transparent green
    argb.setRGB(2, 0, 0xFF0000FF);
    BufferedImage image = Images.decode(encode(argb, "png"), "alpha.png");
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    assertThat(rgb(image, 0, 0)).isEqualTo(0xFF0000);
    assertThat(rgb(image, 1, 0)).isEqualTo(0x00FF00);
    assertThat(rgb(image, 2, 0)).isEqualTo(0x0000FF);
  }

  @Test
  void palettePngWithTransparentEntry() throws Exception {
    byte[] r = {(byte) 255, 0, 0};
    byte[] g = {0, (byte) 255, 0};
    byte[] b = {0, 0, (byte) 255};
    IndexColorModel palette = new IndexColorModel(2, 3, r, g, b, 2); // entry 2 transparent
    BufferedImage indexed = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, palette);
    indexed.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {0, 1, 2});
    BufferedImage image = Images.decode(encode(indexed, "png"), "palette.png");
    assertThat(new int[] {rgb(image, 0, 0), rgb(image, 1, 0), rgb(image, 2, 0)})
        .containsExactly(0xFF0000, 0x00FF00, 0x0000FF);
  }

  @Test
  void grayPngs8And16BitAreNotGammaBrightened() throws Exception {
    BufferedImage gray8 = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
    gray8.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {100, 255});
    BufferedImage image8 = Images.decode(encode(gray8, "png"), "gray8.png");
    assertThat(rgb(image8, 0, 0)).isEqualTo(0x646464);
    assertThat(rgb(image8, 1, 0)).isEqualTo(0xFFFFFF);

    BufferedImage gray16 = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
    gray16.getRaster().setSamples(0, 0, 2, 1, 0, new int[] {0x8080, 0xFFFF});
    BufferedImage image16 = Images.decode(encode(gray16, "png"), "gray16.png");
    assertThat(image16.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    assertThat(rgb(image16, 0, 0)).isEqualTo(0x808080);
    assertThat(rgb(image16, 1, 0)).isEqualTo(0xFFFFFF);
  }

  @Test
  void gifDecodesItsFirstFrame() throws Exception {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("gif").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      writer.prepareWriteSequence(null);
      writer.writeToSequence(new IIOImage(filled(BufferedImage.TYPE_INT_RGB, 5, 4, 0xFF0000), null, null), null);
      writer.writeToSequence(new IIOImage(filled(BufferedImage.TYPE_INT_RGB, 5, 4, 0x0000FF), null, null), null);
      writer.endWriteSequence();
    } finally {
      writer.dispose();
    }
    BufferedImage image = Images.decode(bytes.toByteArray(), "anim.gif");
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    assertThat(image.getWidth()).isEqualTo(5);
    assertThat(image.getHeight()).isEqualTo(4);
    assertThat(rgb(image, 2, 2)).isEqualTo(0xFF0000);
  }

  @Test
  void bmpDecodesExactly() throws Exception {
    BufferedImage bgr = filled(BufferedImage.TYPE_3BYTE_BGR, 7, 3, 0x123456);
    bgr.setRGB(6, 2, 0xABCDEF);
    BufferedImage image = Images.decode(encode(bgr, "bmp"), "x.bmp");
    assertThat(image.getWidth()).isEqualTo(7);
    assertThat(image.getHeight()).isEqualTo(3);
    assertThat(rgb(image, 0, 0)).isEqualTo(0x123456);
    assertThat(rgb(image, 6, 2)).isEqualTo(0xABCDEF);
  }

  /** 5x3, two values per channel, every pixel telling its position: (x + 2y) % 3 == 0 is the second colour. */
  static int[][] twoColours() {
    int[][] rgb = new int[3][5];
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        rgb[y][x] = (x + 2 * y) % 3 == 0 ? 0x1464DC : 0xC80A1E;
      }
    }
    return rgb;
  }

  @Test
  void losslessWebpDecodesExactly() throws Exception {
    int[][] expected = twoColours();
    byte[] webp = LosslessWebp.encode(expected);
    BufferedImage image = Images.decode(webp, "x.webp");
    assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    assertThat(Images.decodedSize(webp, "x.webp")).containsExactly(5, 3);
    for (int y = 0; y < 3; y++) {
      for (int x = 0; x < 5; x++) {
        assertThat(rgb(image, x, y)).as("(%d,%d)", x, y).isEqualTo(expected[y][x]);
      }
    }
  }

  @Test
  void webpClaimingTooManyPixelsIsRefusedFromItsHeader() {
    byte[] webp = LosslessWebp.encode(new int[][] {{0x102030}});
    // VP8L stores width - 1 and height - 1 in 14 bits each, from byte 21: claim 16384 x 16384
    webp[21] = (byte) 0xFF;
    webp[22] = (byte) 0xFF;
    webp[23] = (byte) 0xFF;
    webp[24] = (byte) (webp[24] | 0x0F);
    assertThat(reason(webp)).isEqualTo("image too large: 16384x16384");
  }

  @Test
  void tiffDecodesExactly() throws Exception {
    BufferedImage source = filled(BufferedImage.TYPE_INT_RGB, 6, 4, 0x336699);
    source.setRGB(5, 3, 0xFEDCBA);
    source.setRGB(0, 3, 0x010203);
    for (BufferedImage variant : List.of(source, gray(source))) {
      BufferedImage image = Images.decode(encode(variant, "tiff"), "scan.tiff");
      assertThat(image.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
      assertThat(image.getWidth()).isEqualTo(6);
      assertThat(image.getHeight()).isEqualTo(4);
      for (int[] at : new int[][] {{0, 0}, {5, 3}, {0, 3}}) {
        int v = variant.getRaster().getNumBands() == 1
            ? variant.getRaster().getSample(at[0], at[1], 0) * 0x010101
            : rgb(variant, at[0], at[1]);
        assertThat(rgb(image, at[0], at[1])).as("%s (%d,%d)", variant.getType(), at[0], at[1]).isEqualTo(v);
      }
    }
  }

  private static BufferedImage gray(BufferedImage rgb) {
    BufferedImage gray = new BufferedImage(rgb.getWidth(), rgb.getHeight(), BufferedImage.TYPE_BYTE_GRAY);
    for (int y = 0; y < rgb.getHeight(); y++) {
      for (int x = 0; x < rgb.getWidth(); x++) {
        gray.getRaster().setSample(x, y, 0, (x * 40 + y * 7) & 0xFF);
      }
    }
    return gray;
  }

  @Test
  void readersLostByShadingAreRegisteredByHand() {
    // a jar whose META-INF/services lost the TwelveMonkeys entries, or a class loader ImageIO
    // did not scan: the registry has only the JDK's readers
    javax.imageio.spi.IIORegistry registry = javax.imageio.spi.IIORegistry.getDefaultInstance();
    List<javax.imageio.spi.ImageReaderSpi> removed = new ArrayList<>();
    registry.getServiceProviders(javax.imageio.spi.ImageReaderSpi.class, true).forEachRemaining(spi -> {
      if (spi.getClass().getName().startsWith("com.twelvemonkeys.")) {
        removed.add(spi);
      }
    });
    removed.forEach(spi -> registry.deregisterServiceProvider(spi, javax.imageio.spi.ImageReaderSpi.class));
    Thread thread = Thread.currentThread();
    ClassLoader context = thread.getContextClassLoader();
    // sees no job jar, so ImageIO.scanForPlugins() cannot find the plugins again
    thread.setContextClassLoader(new ClassLoader(null) {});
    try {
      java.util.Map<?, javax.imageio.spi.ImageReaderSpi> readers = Images.Readers.load();
      assertThat(readers.values().stream().map(spi -> spi.getClass().getSimpleName()))
          .contains("JPEGImageReaderSpi", "WebPImageReaderSpi", "TIFFImageReaderSpi");
      assertThat(readers.values().stream().filter(spi -> spi.getClass().getName().startsWith("com.twelvemonkeys.")))
          .hasSize(3);
    } finally {
      thread.setContextClassLoader(context);
      removed.forEach(registry::registerServiceProvider);
    }
  }

  @Test
  void bytesAfterTheEndOfImageMarkerAreAllowed() throws Exception {
    byte[] jpeg = resource("dog.12.jpg");
    byte[] trailer = "SEFT trailer appended by a phone".getBytes(StandardCharsets.US_ASCII);
    byte[] withTrailer = Arrays.copyOf(jpeg, jpeg.length + trailer.length);
    System.arraycopy(trailer, 0, withTrailer, jpeg.length, trailer.length);
    assertThat(Images.decode(withTrailer, "dog.12.jpg").getWidth()).isEqualTo(98);
  }

  @Test
  void concurrentDecodesGiveTheSamePixels() throws Exception {
    List<byte[]> inputs =
        List.of(resource("cat.5.jpg"), resource("cat.28.jpg"), resource("dog.11.jpg"),
            resource("dog.12.jpg"), resource("cmyk.jpg"), resource("ycck.jpg"));
    List<int[]> expected = new ArrayList<>();
    for (byte[] in : inputs) {
      expected.add(pixels(Images.decode(in, "x")));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int k = 0; k < 48; k++) {
        int i = k % inputs.size();
        results.add(pool.submit(() -> Arrays.equals(pixels(Images.decode(inputs.get(i), "x")), expected.get(i))));
      }
      for (Future<Boolean> same : results) {
        assertThat(same.get()).isTrue();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  private static int[] pixels(BufferedImage image) {
    return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
  }

  // ---- rejected --------------------------------------------------------------------------------

  @Test
  void emptyFile() {
    assertThat(reason(new byte[0])).isEqualTo("empty file");
    assertThat(reason(null)).isEqualTo("empty file");
  }

  @Test
  void messageNamesTheFile() {
    assertThatThrownBy(() -> Images.decode(new byte[0], "file:/data/cat/1.jpg"))
        .isInstanceOf(UndecodableImageException.class)
        .hasMessage("file:/data/cat/1.jpg: empty file");
  }

  @Test
  void textIsNotAnImage() {
    assertThat(reason("just some notes, saved as .jpg\n".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("not an image: unrecognized format");
    assertThat(reason("BM but not a bitmap".getBytes(StandardCharsets.UTF_8)))
        .isEqualTo("not an image: unrecognized format");
  }

  @Test
  void jpegCutInHalfIsTruncated() {
    byte[] jpeg = resource("cat.28.jpg");
    assertThat(reason(Arrays.copyOf(jpeg, jpeg.length / 2)))
        .isEqualTo("truncated or corrupt JPEG: no end-of-image marker (file truncated)");
  }

  @Test
  void jpegWithTheMiddleCutOutFailsOnTheDecoderWarning() {
    // Valid structure (ends in EOI) but the scan data stops early: the decoder only warns.
    byte[] jpeg = resource("cat.28.jpg");
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length / 2 + 2);
    cut[cut.length - 2] = (byte) 0xFF;
    cut[cut.length - 1] = (byte) 0xD9;
    assertThat(reason(cut)).startsWith("truncated or corrupt JPEG: ").containsIgnoringCase("corrupt jpeg data");
  }

  @Test
  void decodedSizeValidatesLikeDecode() throws Exception {
    assertThat(Images.decodedSize(resource("cat.5.jpg"), "cat.5.jpg")).containsExactly(175, 144);
    byte[] jpeg = resource("cat.28.jpg");
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length / 2 + 2);
    cut[cut.length - 2] = (byte) 0xFF;
    cut[cut.length - 1] = (byte) 0xD9;
    assertThatThrownBy(() -> Images.decodedSize(cut, "cut.jpg"))
        .isInstanceOf(UndecodableImageException.class)
        .extracting(e -> ((UndecodableImageException) e).reason())
        .isEqualTo(reason(cut));
  }

  @Test
  void knownButUnsupportedFormatsAreNamed() {
    byte[] heic = "\0\0\0\u0018ftypheic\0\0\0\0".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(reason(heic)).isEqualTo("unsupported format: heif");
    byte[] bigTiff = {'I', 'I', 0x2B, 0, 8, 0, 0, 0};
    assertThat(reason(bigTiff)).isEqualTo("unsupported format: bigtiff");
  }

  @Test
  void webpAndTiffCutShortAreCorruptNotUnsupported() {
    byte[] webp = "RIFF\0\0\0\0WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);
    assertThat(reason(webp)).isEqualTo("truncated or corrupt WEBP: header too short");
    byte[] lossless = LosslessWebp.encode(new int[][] {{0x102030, 0x405060}});
    assertThat(reason(Arrays.copyOf(lossless, lossless.length - 2)))
        .isEqualTo("truncated or corrupt WEBP: file truncated: " + (lossless.length - 2) + " of " + lossless.length + " bytes");
    byte[] tiff = encode(filled(BufferedImage.TYPE_INT_RGB, 40, 40, 0x336699), "tiff");
    assertThat(reason(Arrays.copyOf(tiff, 12))).startsWith("truncated or corrupt TIFF: ");
    assertThat(reason(Arrays.copyOf(tiff, tiff.length / 2))).startsWith("truncated or corrupt TIFF: ");
  }

  @Test
  void zeroSizeImage() {
    assertThat(reason(pngHeader(0, 10))).isEqualTo("zero-size image");
  }

  @Test
  void decompressionBombIsRefusedFromItsHeader() {
    // 24 bytes that claim 2 gigapixels: refused before anything is allocated.
    assertThat(reason(pngHeader(50_000, 40_000))).isEqualTo("image too large: 50000x40000");
    assertThat(reason(pngHeader(10_001, 10_000))).isEqualTo("image too large: 10001x10000");
  }

  @Test
  void pngCutShortIsCorrupt() {
    byte[] png = encode(filled(BufferedImage.TYPE_INT_RGB, 64, 64, 0x808080), "png");
    assertThat(reason(Arrays.copyOf(png, 40))).startsWith("truncated or corrupt PNG: ");
  }
}
