package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class PreprocessingTest {

  private static BufferedImage uniform(int w, int h, int rgb) {
    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        img.setRGB(x, y, rgb);
      }
    }
    return img;
  }

  @Test
  void plusMinusOneKeepsRgbOrderAndScales() {
    Preprocessing p = Preprocessing.plusMinusOne(4);
    float[] out = p.toNchw(List.of(uniform(7, 5, 0xFF007F)));
    assertThat(out).hasSize(3 * 16);
    assertThat(out[0]).isEqualTo(1f); // R plane first
    assertThat(out[16]).isEqualTo(-1f);
    assertThat(out[32]).isCloseTo(127f / 127.5f - 1f, within(1e-6f));
    assertThat(out[47]).isCloseTo(127f / 127.5f - 1f, within(1e-6f));
  }

  @Test
  void caffePutsBlueFirstAndSubtractsMeans() {
    Preprocessing p = Preprocessing.caffe(3);
    float[] out = p.toNchw(List.of(uniform(10, 10, 0xFF007F)));
    assertThat(out[0]).isCloseTo(127f - 103.939f, within(1e-4f)); // B plane first
    assertThat(out[9]).isCloseTo(0f - 116.779f, within(1e-4f));
    assertThat(out[18]).isCloseTo(255f - 123.68f, within(1e-4f));
  }

  @Test
  void equalWidthIsCopiedExactlyAndRowsAreInterpolated() {
    BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    int[] greys = {0, 10, 20, 30, 40, 50};
    for (int i = 0; i < 6; i++) {
      int g = greys[i];
      img.setRGB(i % 3, i / 3, g << 16 | g << 8 | g);
    }
    // 3x2 is not square: resize to 3x3 only stretches rows; columns stay exact
    float[] out = Preprocessing.caffe(3).toNchw(List.of(img));
    assertThat(out[0] + 103.939f).isCloseTo(0f, within(1e-4f));
    assertThat(out[2] + 103.939f).isCloseTo(20f, within(1e-4f));
    // middle output row samples source row 0.5: halfway between the two rows
    assertThat(out[3] + 103.939f).isCloseTo(15f, within(1e-4f));
    assertThat(out[8] + 103.939f).isCloseTo(50f, within(1e-4f));
  }

  @Test
  void halvingAveragesTwoByTwoBlocks() {
    // pixel centres: output pixel o samples source 2o + 0.5, the middle of a 2x2 block
    BufferedImage img = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 4; y++) {
      for (int x = 0; x < 4; x++) {
        int v = 16 * y + 4 * x;
        img.setRGB(x, y, v << 16);
      }
    }
    Preprocessing p = Preprocessing.plusMinusOne(2);
    float[] out = p.toNchw(List.of(img));
    float[] expected = {(0 + 4 + 16 + 20) / 4f, (8 + 12 + 24 + 28) / 4f,
        (32 + 36 + 48 + 52) / 4f, (40 + 44 + 56 + 60) / 4f};
    for (int i = 0; i < 4; i++) {
      assertThat((out[i] + 1f) * 127.5f).isCloseTo(expected[i], within(1e-3f));
    }
  }

  @Test
  void subImagesAndOtherTypesReadTheRightPixels() {
    BufferedImage big = uniform(20, 20, 0x000000);
    for (int y = 5; y < 15; y++) {
      for (int x = 5; x < 15; x++) {
        big.setRGB(x, y, 0x204060);
      }
    }
    BufferedImage sub = big.getSubimage(5, 5, 10, 10);
    BufferedImage bgr = new BufferedImage(10, 10, BufferedImage.TYPE_3BYTE_BGR);
    bgr.createGraphics().drawImage(uniform(10, 10, 0x204060), 0, 0, null);
    Preprocessing p = Preprocessing.plusMinusOne(4);
    float[] fromSub = p.toNchw(List.of(sub));
    float[] fromBgr = p.toNchw(List.of(bgr));
    float[] fromUniform = p.toNchw(List.of(uniform(10, 10, 0x204060)));
    assertThat(fromSub).containsExactly(fromUniform);
    assertThat(fromBgr).containsExactly(fromUniform);
  }

  @Test
  void idsNameSizeColourAndScaling() {
    assertThat(Preprocessing.plusMinusOne(224).id()).isEqualTo("rgb-224-bilinear-pm1-v1");
    assertThat(Preprocessing.caffe(227).id()).isEqualTo("bgr-227-bilinear-caffemean-v1");
  }

  @Test
  void resizedRgbIsTheResizeRoundedAndLeavesAnImageOfTheSizeAsItIs() {
    java.util.Random r = new java.util.Random(7);
    BufferedImage big = new BufferedImage(53, 31, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 31; y++) {
      for (int x = 0; x < 53; x++) {
        big.setRGB(x, y, r.nextInt(1 << 24));
      }
    }
    Preprocessing caffe = Preprocessing.caffe(20);
    byte[] rgb = caffe.resizedRgb(big);
    assertThat(rgb).hasSize(20 * 20 * 3);
    // the same resize as the network input, before the offsets and the BGR order, rounded
    float[] bgr = caffe.toNhwc(List.of(big));
    float[] means = {103.939f, 116.779f, 123.68f};
    for (int p = 0; p < 20 * 20; p++) {
      for (int c = 0; c < 3; c++) {
        float value = bgr[3 * p + (2 - c)] + means[2 - c];
        assertThat(rgb[3 * p + c] & 0xFF).isCloseTo(Math.round(value), within(1));
        assertThat((float) (rgb[3 * p + c] & 0xFF)).isCloseTo(value, within(0.5f + 1e-3f));
      }
    }
    // an image of the size comes back pixel for pixel
    BufferedImage same = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
    for (int p = 0; p < 400; p++) {
      same.setRGB(p % 20, p / 20, r.nextInt(1 << 24));
    }
    byte[] unchanged = Preprocessing.plusMinusOne(20).resizedRgb(same);
    for (int p = 0; p < 400; p++) {
      int px = same.getRGB(p % 20, p / 20);
      assertThat(new int[] {unchanged[3 * p] & 0xFF, unchanged[3 * p + 1] & 0xFF, unchanged[3 * p + 2] & 0xFF})
          .containsExactly(px >> 16 & 0xFF, px >> 8 & 0xFF, px & 0xFF);
    }
  }
}
