package io.bottleneck.io;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;

/**
 * The Exif orientation of a JPEG (tag 0x0112 of IFD0 in the APP1 "Exif" segment) and the
 * rotation or flip that shows the image upright, as viewers and phones show it. Cameras store
 * the sensor's rows as they came and tag how the camera was held: a portrait photo from a
 * phone is stored landscape with orientation 6 (rotate 90 degrees clockwise to view).
 *
 * <p>Orientations, as Exif defines them: 1 as stored, 2 mirrored left-right, 3 rotated 180, 4
 * mirrored top-bottom, 5 transposed (mirrored, then rotated 270 clockwise), 6 rotated 90
 * clockwise, 7 transversed (mirrored, then rotated 90 clockwise), 8 rotated 270 clockwise. 5-8
 * swap width and height.
 *
 * <p>A small parser over the segments before the first scan, rather than a metadata library:
 * one tag is needed, and anything it does not understand reads as 1 (as stored).
 */
public final class ExifOrientation {
  private ExifOrientation() {}

  /** No rotation or flip. */
  public static final int UPRIGHT = 1;

  private static final int ORIENTATION_TAG = 0x0112;
  private static final int TYPE_SHORT = 3;

  /** The orientation 1-8 of a JPEG file; 1 for other formats, no tag, or a malformed one. */
  public static int of(byte[] b) {
    if (b == null || b.length < 4 || (b[0] & 0xFF) != 0xFF || (b[1] & 0xFF) != 0xD8) {
      return UPRIGHT;
    }
    int n = b.length;
    int i = 2;
    while (i + 4 <= n && (b[i] & 0xFF) == 0xFF) {
      int marker = b[i + 1] & 0xFF;
      if (marker == 0xFF) {
        i++; // fill byte
        continue;
      }
      if (marker == 0xDA || marker == 0xD9) {
        return UPRIGHT; // metadata comes before the first scan
      }
      int length = u16(b, i + 2, false);
      if (length < 2 || i + 2 + length > n) {
        return UPRIGHT;
      }
      int body = i + 4;
      if (marker == 0xE1 && length >= 8 && isExifHeader(b, body)) {
        return orientationInTiff(b, body + 6, i + 2 + length); // the first Exif segment decides
      }
      i += 2 + length;
    }
    return UPRIGHT;
  }

  /** Whether {@code orientation} swaps width and height (5-8). */
  public static boolean swapsSides(int orientation) {
    return orientation >= 5 && orientation <= 8;
  }

  /** {@code image} (TYPE_INT_RGB) shown upright: a new image, or {@code image} itself for 1. */
  public static BufferedImage apply(BufferedImage image, int orientation) {
    if (orientation < 2 || orientation > 8) {
      return image;
    }
    int w = image.getWidth();
    int h = image.getHeight();
    boolean swap = swapsSides(orientation);
    int outW = swap ? h : w;
    BufferedImage out = new BufferedImage(outW, swap ? w : h, BufferedImage.TYPE_INT_RGB);
    int[] src = image.getRGB(0, 0, w, h, null, 0, w);
    int[] dst = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
    int[] at = new int[2];
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        target(orientation, x, y, w, h, at);
        dst[at[1] * outW + at[0]] = src[y * w + x] & 0xFFFFFF;
      }
    }
    return out;
  }

  /**
   * Orients a square network input in place: image {@code index} of {@code batch}, {@code side}
   * pixels a side, 3 channels, NHWC when {@code channelsLast}, else NCHW. On a square, resizing
   * (separable, with the same weights on both axes) and then orienting gives the same values as
   * orienting and then resizing, so the engines' own decoders can keep their stored-orientation
   * output and the orientation applies afterwards.
   */
  public static void applyToInput(float[] batch, int index, int side, boolean channelsLast, int orientation) {
    if (orientation < 2 || orientation > 8) {
      return;
    }
    int plane = side * side;
    int start = Math.multiplyExact(index, 3 * plane);
    float[] copy = java.util.Arrays.copyOfRange(batch, start, start + 3 * plane);
    int[] at = new int[2];
    for (int y = 0; y < side; y++) {
      for (int x = 0; x < side; x++) {
        target(orientation, x, y, side, side, at);
        int from = y * side + x;
        int to = at[1] * side + at[0];
        for (int c = 0; c < 3; c++) {
          if (channelsLast) {
            batch[start + 3 * to + c] = copy[3 * from + c];
          } else {
            batch[start + c * plane + to] = copy[c * plane + from];
          }
        }
      }
    }
  }

  /** Where stored pixel (x, y) of a w x h image lands in the upright image, into {@code at}. */
  static void target(int orientation, int x, int y, int w, int h, int[] at) {
    switch (orientation) {
      case 2 -> set(at, w - 1 - x, y);
      case 3 -> set(at, w - 1 - x, h - 1 - y);
      case 4 -> set(at, x, h - 1 - y);
      case 5 -> set(at, y, x);
      case 6 -> set(at, h - 1 - y, x);
      case 7 -> set(at, h - 1 - y, w - 1 - x);
      case 8 -> set(at, y, w - 1 - x);
      default -> set(at, x, y);
    }
  }

  private static void set(int[] at, int x, int y) {
    at[0] = x;
    at[1] = y;
  }

  private static boolean isExifHeader(byte[] b, int i) {
    return b[i] == 'E' && b[i + 1] == 'x' && b[i + 2] == 'i' && b[i + 3] == 'f' && b[i + 4] == 0 && b[i + 5] == 0;
  }

  /** The orientation in a TIFF structure at [start, end): IFD0's tag 0x0112, else 1. */
  private static int orientationInTiff(byte[] b, int start, int end) {
    if (end - start < 8) {
      return UPRIGHT;
    }
    boolean little;
    if (b[start] == 'I' && b[start + 1] == 'I') {
      little = true;
    } else if (b[start] == 'M' && b[start + 1] == 'M') {
      little = false;
    } else {
      return UPRIGHT;
    }
    if (u16(b, start + 2, little) != 42) {
      return UPRIGHT;
    }
    long ifd = u32(b, start + 4, little);
    if (ifd < 8 || start + ifd + 2 > end) {
      return UPRIGHT;
    }
    int p = (int) (start + ifd);
    int entries = u16(b, p, little);
    for (int k = 0; k < entries; k++) {
      int e = p + 2 + 12 * k;
      if (e + 12 > end) {
        return UPRIGHT;
      }
      if (u16(b, e, little) == ORIENTATION_TAG) {
        int value = u16(b, e + 8, little); // a SHORT sits left-aligned in the 4 value bytes
        boolean valid = u16(b, e + 2, little) == TYPE_SHORT && value >= 1 && value <= 8;
        return valid ? value : UPRIGHT;
      }
    }
    return UPRIGHT;
  }

  private static int u16(byte[] b, int i, boolean little) {
    int a = b[i] & 0xFF;
    int c = b[i + 1] & 0xFF;
    return little ? a | (c << 8) : (a << 8) | c;
  }

  private static long u32(byte[] b, int i, boolean little) {
    long lo = u16(b, little ? i : i + 2, little);
    long hi = u16(b, little ? i + 2 : i, little);
    return (hi << 16) | lo;
  }
}
