package io.bottleneck.io;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.TreeSet;

/**
 * Writes a lossless WebP (VP8L) file of an opaque image with at most two values per channel:
 * the JDK and TwelveMonkeys have no WebP writer, and the machine no encoder. The bitstream is
 * the simplest the format allows (RFC 9649): no transforms, no colour cache, no meta prefix
 * codes, one "simple" prefix code of one or two symbols per channel, every pixel a literal.
 */
public final class LosslessWebp {
  private LosslessWebp() {}

  /** @param rgb {@code rgb[y][x]} as 0xRRGGBB; each channel takes at most two values */
  public static byte[] encode(int[][] rgb) {
    int h = rgb.length;
    int w = rgb[0].length;
    Bits bits = new Bits();
    bits.write(0x2F, 8); // signature
    bits.write(w - 1, 14);
    bits.write(h - 1, 14);
    bits.write(0, 1); // alpha_is_used: a hint only
    bits.write(0, 3); // version
    bits.write(0, 1); // no transform
    bits.write(0, 1); // no colour cache
    bits.write(0, 1); // no meta prefix codes
    // the five prefix codes, in this order: green (+ lengths), red, blue, alpha, distance
    int[][] green = symbols(rgb, 8);
    int[][] red = symbols(rgb, 16);
    int[][] blue = symbols(rgb, 0);
    for (int[] code : new int[][] {green[0], red[0], blue[0], {0xFF}, {0}}) {
      simpleCode(bits, code);
    }
    for (int[] row : rgb) {
      for (int p : row) {
        // literal: green, red, blue, alpha (a one-symbol code takes no bits)
        literal(bits, green[0], (p >> 8) & 0xFF);
        literal(bits, red[0], (p >> 16) & 0xFF);
        literal(bits, blue[0], p & 0xFF);
      }
    }
    byte[] vp8l = bits.bytes();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int padded = vp8l.length + (vp8l.length & 1);
    out.writeBytes("RIFF".getBytes(StandardCharsets.US_ASCII));
    le32(out, 4 + 8 + padded);
    out.writeBytes("WEBPVP8L".getBytes(StandardCharsets.US_ASCII));
    le32(out, vp8l.length);
    out.writeBytes(vp8l);
    if ((vp8l.length & 1) == 1) {
      out.write(0);
    }
    return out.toByteArray();
  }

  /** The distinct values of one channel, ascending (at most two), as {@code {values}}. */
  private static int[][] symbols(int[][] rgb, int shift) {
    TreeSet<Integer> values = new TreeSet<>();
    for (int[] row : rgb) {
      for (int p : row) {
        values.add((p >> shift) & 0xFF);
      }
    }
    if (values.size() > 2) {
      throw new IllegalArgumentException("at most two values per channel, not " + values);
    }
    return new int[][] {values.stream().mapToInt(Integer::intValue).toArray()};
  }

  private static void simpleCode(Bits bits, int[] symbols) {
    bits.write(1, 1); // simple code
    bits.write(symbols.length - 1, 1);
    bits.write(1, 1); // first symbol in 8 bits
    bits.write(symbols[0], 8);
    if (symbols.length == 2) {
      bits.write(symbols[1], 8);
    }
  }

  /** Two symbols of length 1 get canonical codes in symbol order: the smaller one is 0. */
  private static void literal(Bits bits, int[] symbols, int value) {
    if (symbols.length == 2) {
      bits.write(value == symbols[0] ? 0 : 1, 1);
    }
  }

  private static void le32(ByteArrayOutputStream out, int v) {
    for (int i = 0; i < 4; i++) {
      out.write((v >>> (8 * i)) & 0xFF);
    }
  }

  /** VP8L packs values least significant bit first. */
  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private int current;
    private int used;

    void write(int value, int n) {
      for (int i = 0; i < n; i++) {
        current |= ((value >> i) & 1) << used;
        if (++used == 8) {
          out.write(current);
          current = 0;
          used = 0;
        }
      }
    }

    byte[] bytes() {
      if (used > 0) {
        out.write(current);
        current = 0;
        used = 0;
      }
      return out.toByteArray();
    }
  }
}
