package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Which JPEGs {@link Images#isPlainJpeg} lets a faster decoder take. */
class ImagesPlainJpegTest {

  private static final byte[] COLOUR = JpegVariants.write(
      ImagesTest.filled(BufferedImage.TYPE_INT_RGB, 40, 30, 0x336699), false);

  @Test
  void baselineProgressiveAndGrayJpegsArePlain() {
    assertThat(Images.isPlainJpeg(COLOUR)).isTrue();
    assertThat(Images.isPlainJpeg(JpegVariants.write(
        ImagesTest.filled(BufferedImage.TYPE_INT_RGB, 40, 30, 0x336699), true))).isTrue();
    assertThat(Images.isPlainJpeg(JpegVariants.write(
        ImagesTest.filled(BufferedImage.TYPE_BYTE_GRAY, 40, 30, 0x808080), false))).isTrue();
    assertThat(Images.isPlainJpeg(ImagesTest.resource("cat.5.jpg"))).isTrue();
  }

  @Test
  void colourManagedJpegsAreNot() {
    assertThat(Images.isPlainJpeg(ImagesTest.resource("cmyk.jpg"))).isFalse();
    assertThat(Images.isPlainJpeg(ImagesTest.resource("ycck.jpg"))).isFalse();
    assertThat(Images.isPlainJpeg(JpegVariants.withSegment(COLOUR, 0xEE, "Adobe", 7))).isFalse();
    assertThat(Images.isPlainJpeg(JpegVariants.withSegment(COLOUR, 0xE2, "ICC_PROFILE\0", 20)))
        .isFalse();
    // an APP segment that changes nothing keeps it plain
    assertThat(Images.isPlainJpeg(JpegVariants.withSegment(COLOUR, 0xE1, "Exif\0\0", 10))).isTrue();
  }

  @Test
  void unusualFramesAreNot() {
    int body = JpegVariants.frameBody(COLOUR);
    assertThat(body).isPositive();
    assertThat(COLOUR[body + 5]).isEqualTo((byte) 3);
    assertThat(Images.isPlainJpeg(edit(COLOUR, body, (byte) 12))).as("12-bit").isFalse();
    // component 1 sampling: 4:4:0 (h1v2), upsampled differently by libjpeg versions
    assertThat(Images.isPlainJpeg(edit(COLOUR, body + 7, (byte) 0x12))).as("4:4:0").isFalse();
    assertThat(Images.isPlainJpeg(edit(COLOUR, body + 7, (byte) 0x21))).as("4:2:2").isTrue();
    assertThat(Images.isPlainJpeg(edit(COLOUR, body + 6, (byte) 'R'))).as("RGB ids").isFalse();
    assertThat(Images.isPlainJpeg(edit(COLOUR, body - 3, (byte) 0xC9))).as("arithmetic").isFalse();
  }

  @Test
  void otherFilesAreNot() {
    assertThat(Images.isPlainJpeg(null)).isFalse();
    assertThat(Images.isPlainJpeg(new byte[0])).isFalse();
    assertThat(Images.isPlainJpeg(ImagesTest.pngHeader(10, 10))).isFalse();
    int body = JpegVariants.frameBody(COLOUR);
    assertThat(Images.isPlainJpeg(Arrays.copyOf(COLOUR, body + 4))).as("cut in the frame").isFalse();
  }

  private static byte[] edit(byte[] bytes, int at, byte value) {
    byte[] copy = bytes.clone();
    copy[at] = value;
    return copy;
  }
}
