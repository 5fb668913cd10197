package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.nets.Preprocessing;
import java.awt.image.BufferedImage;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExifOrientationTest {
  private static final int RED = 0xE01010;
  private static final int GREEN = 0x10E010;
  private static final int BLUE = 0x1010E0;
  private static final int WHITE = 0xF0F0F0;

  /**
   * 48 x 24 as stored, in four 24 x 12 blocks: red top-left, green top-right, blue
   * bottom-left, white bottom-right. Large flat blocks survive JPEG.
   */
  static BufferedImage quadrants() {
    BufferedImage image = new BufferedImage(48, 24, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 24; y++) {
      for (int x = 0; x < 48; x++) {
        image.setRGB(x, y, y < 12 ? (x < 24 ? RED : GREEN) : (x < 24 ? BLUE : WHITE));
      }
    }
    return image;
  }

  /** The colour at the centre of each corner block: top-left, top-right, bottom-left, bottom-right. */
  private static int[] corners(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[][] at = {{w / 8, h / 8}, {w - 1 - w / 8, h / 8}, {w / 8, h - 1 - h / 8}, {w - 1 - w / 8, h - 1 - h / 8}};
    int[] out = new int[4];
    for (int i = 0; i < 4; i++) {
      out[i] = nearest(image.getRGB(at[i][0], at[i][1]) & 0xFFFFFF);
    }
    return out;
  }

  /** The block colour a (JPEG-blurred) pixel is closest to. */
  private static int nearest(int rgb) {
    int best = -1;
    long bestDistance = Long.MAX_VALUE;
    for (int c : new int[] {RED, GREEN, BLUE, WHITE}) {
      long d = 0;
      for (int shift = 0; shift <= 16; shift += 8) {
        long diff = ((rgb >> shift) & 0xFF) - ((c >> shift) & 0xFF);
        d += diff * diff;
      }
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return best;
  }

  @Test
  void readsTheOrientationTagInEitherByteOrderAndDefaultsToAsStored() {
    byte[] jpeg = JpegVariants.write(quadrants(), false);
    assertThat(ExifOrientation.of(jpeg)).isEqualTo(1);
    for (int o = 1; o <= 8; o++) {
      assertThat(ExifOrientation.of(JpegVariants.withExifOrientation(jpeg, o, false))).isEqualTo(o);
      assertThat(ExifOrientation.of(JpegVariants.withExifOrientation(jpeg, o, true))).isEqualTo(o);
    }
    // out of range, not a JPEG, cut inside the segment: as stored
    assertThat(ExifOrientation.of(JpegVariants.withExifOrientation(jpeg, 9, false))).isEqualTo(1);
    assertThat(ExifOrientation.of(ImagesTest.encode(quadrants(), "png"))).isEqualTo(1);
    byte[] tagged = JpegVariants.withExifOrientation(jpeg, 6, false);
    assertThat(ExifOrientation.of(java.util.Arrays.copyOf(tagged, 40))).isEqualTo(1);
    assertThat(ExifOrientation.of(null)).isEqualTo(1);
  }

  @Test
  void orientationSixDecodesRotatedClockwiseAndStaysAsStoredWhenOff() throws Exception {
    byte[] jpeg = JpegVariants.withExifOrientation(JpegVariants.write(quadrants(), false), 6, false);

    BufferedImage upright = Images.decode(jpeg, "phone.jpg", true);
    assertThat(upright.getWidth()).isEqualTo(24);
    assertThat(upright.getHeight()).isEqualTo(48);
    // rotated 90 degrees clockwise: the stored left column (red over blue) becomes the top row
    assertThat(corners(upright)).containsExactly(BLUE, RED, WHITE, GREEN);
    assertThat(Images.decodedSize(jpeg, "phone.jpg", true)).containsExactly(24, 48);

    BufferedImage stored = Images.decode(jpeg, "phone.jpg", false);
    assertThat(stored.getWidth()).isEqualTo(48);
    assertThat(corners(stored)).containsExactly(RED, GREEN, BLUE, WHITE);
    assertThat(Images.decodedSize(jpeg, "phone.jpg", false)).containsExactly(48, 24);
    // the two-argument forms are as stored, as they always were
    assertThat(corners(Images.decode(jpeg, "phone.jpg"))).containsExactly(RED, GREEN, BLUE, WHITE);
  }

  @Test
  void everyOrientationShowsTheStoredCornerTheExifTableNames() {
    // which stored corner ends up top-left, top-right, bottom-left, bottom-right when upright
    Map<Integer, int[]> expected = Map.of(
        1, new int[] {RED, GREEN, BLUE, WHITE},
        2, new int[] {GREEN, RED, WHITE, BLUE},
        3, new int[] {WHITE, BLUE, GREEN, RED},
        4, new int[] {BLUE, WHITE, RED, GREEN},
        5, new int[] {RED, BLUE, GREEN, WHITE},
        6, new int[] {BLUE, RED, WHITE, GREEN},
        7, new int[] {WHITE, GREEN, BLUE, RED},
        8, new int[] {GREEN, WHITE, RED, BLUE});
    for (int o = 1; o <= 8; o++) {
      BufferedImage upright = ExifOrientation.apply(quadrants(), o);
      assertThat(corners(upright)).as("orientation %d", o).containsExactly(expected.get(o));
      assertThat(upright.getWidth()).as("orientation %d", o).isEqualTo(o >= 5 ? 24 : 48);
    }
  }

  @Test
  void orientingTheResizedInputEqualsResizingTheOrientedImage() {
    BufferedImage image = new BufferedImage(37, 23, BufferedImage.TYPE_INT_RGB);
    java.util.Random random = new java.util.Random(5);
    for (int y = 0; y < 23; y++) {
      for (int x = 0; x < 37; x++) {
        image.setRGB(x, y, random.nextInt(1 << 24));
      }
    }
    Preprocessing prep = Preprocessing.plusMinusOne(16);
    int n = 3 * 16 * 16;
    for (int o = 1; o <= 8; o++) {
      for (boolean nhwc : new boolean[] {false, true}) {
        float[] viaInput = new float[2 * n];
        float[] viaImage = new float[2 * n];
        if (nhwc) {
          prep.fillNhwc(image, viaInput, n);
          prep.fillNhwc(ExifOrientation.apply(image, o), viaImage, n);
        } else {
          prep.fill(image, viaInput, n);
          prep.fill(ExifOrientation.apply(image, o), viaImage, n);
        }
        ExifOrientation.applyToInput(viaInput, 1, 16, nhwc, o);
        for (int i = 0; i < 2 * n; i++) {
          assertThat(viaInput[i]).as("orientation %d, nhwc %s, value %d", o, nhwc, i)
              .isCloseTo(viaImage[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
      }
    }
  }
}
