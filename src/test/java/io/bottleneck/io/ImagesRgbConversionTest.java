package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The byte fast path of the RGB conversion gives exactly what getRGB gives. */
class ImagesRgbConversionTest {
  private static BufferedImage random(int type, int w, int h, long seed) {
    BufferedImage img = new BufferedImage(w, h, type);
    Random r = new Random(seed);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, r.nextInt());
      }
    }
    return img;
  }

  private static void assertSameAsGetRgb(BufferedImage src) {
    BufferedImage rgb = Images.toRgb(src);
    assertThat(rgb.getType()).isEqualTo(BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < src.getHeight(); y++) {
      for (int x = 0; x < src.getWidth(); x++) {
        assertThat(rgb.getRGB(x, y) & 0xFFFFFF).as("pixel %d,%d", x, y).isEqualTo(src.getRGB(x, y) & 0xFFFFFF);
      }
    }
  }

  @Test
  void bgrBytesConvertExactly() {
    assertSameAsGetRgb(random(BufferedImage.TYPE_3BYTE_BGR, 37, 23, 1));
  }

  @Test
  void abgrBytesDropAlphaExactly() {
    assertSameAsGetRgb(random(BufferedImage.TYPE_4BYTE_ABGR, 16, 9, 2));
  }

  @Test
  void aSubimageWithAnOffsetRasterConvertsExactly() {
    BufferedImage whole = random(BufferedImage.TYPE_3BYTE_BGR, 40, 30, 3);
    assertSameAsGetRgb(whole.getSubimage(7, 5, 20, 11));
  }
}
