package io.bottleneck.io;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/** JPEG files of the kinds decoders may disagree on, written with ImageIO or edited in place. */
public final class JpegVariants {
  private JpegVariants() {}

  /** Baseline or progressive JPEG of {@code image} (YCbCr 4:2:0 for colour, 1 component for gray). */
  public static byte[] write(BufferedImage image, boolean progressive) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
      writer.setOutput(out);
      ImageWriteParam param = writer.getDefaultWriteParam();
      param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
      param.setCompressionQuality(0.9f);
      if (progressive) {
        param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      }
      writer.write(null, new IIOImage(image, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return bytes.toByteArray();
  }

  /** {@code jpeg} with one more marker segment right after SOI. */
  public static byte[] withSegment(byte[] jpeg, int marker, String identifier, int extraBytes) {
    byte[] id = identifier.getBytes(StandardCharsets.ISO_8859_1);
    int length = 2 + id.length + extraBytes;
    byte[] out = new byte[jpeg.length + 2 + length];
    out[0] = (byte) 0xFF;
    out[1] = (byte) 0xD8;
    out[2] = (byte) 0xFF;
    out[3] = (byte) marker;
    out[4] = (byte) (length >> 8);
    out[5] = (byte) length;
    System.arraycopy(id, 0, out, 6, id.length);
    System.arraycopy(jpeg, 2, out, 4 + length, jpeg.length - 2);
    return out;
  }

  /**
   * {@code jpeg} with an APP1 Exif segment holding one IFD0 entry, Orientation (0x0112) =
   * {@code orientation}, in Motorola (big-endian) or Intel byte order, after the JFIF segment.
   */
  public static byte[] withExifOrientation(byte[] jpeg, int orientation, boolean littleEndian) {
    java.nio.ByteBuffer tiff = java.nio.ByteBuffer.allocate(8 + 2 + 12 + 4)
        .order(littleEndian ? java.nio.ByteOrder.LITTLE_ENDIAN : java.nio.ByteOrder.BIG_ENDIAN);
    tiff.put((byte) (littleEndian ? 'I' : 'M')).put((byte) (littleEndian ? 'I' : 'M')).putShort((short) 42).putInt(8);
    tiff.putShort((short) 1); // one entry
    tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) orientation).putShort((short) 0);
    tiff.putInt(0); // no next IFD
    byte[] exif = "Exif\0\0".getBytes(StandardCharsets.ISO_8859_1);
    int length = 2 + exif.length + tiff.capacity();
    int at = 2;
    if ((jpeg[3] & 0xFF) == 0xE0) { // after APP0 (JFIF), which decoders expect first
      at = 4 + ((jpeg[4] & 0xFF) << 8 | (jpeg[5] & 0xFF));
    }
    byte[] out = new byte[jpeg.length + 2 + length];
    System.arraycopy(jpeg, 0, out, 0, at);
    out[at] = (byte) 0xFF;
    out[at + 1] = (byte) 0xE1;
    out[at + 2] = (byte) (length >> 8);
    out[at + 3] = (byte) length;
    System.arraycopy(exif, 0, out, at + 4, exif.length);
    System.arraycopy(tiff.array(), 0, out, at + 4 + exif.length, tiff.capacity());
    System.arraycopy(jpeg, at, out, at + 2 + length, jpeg.length - at);
    return out;
  }

  /** Offset of the first frame header's body (after marker and length), or -1. */
  public static int frameBody(byte[] jpeg) {
    int i = 2;
    while (i + 4 <= jpeg.length) {
      int marker = jpeg[i + 1] & 0xFF;
      int length = (jpeg[i + 2] & 0xFF) << 8 | (jpeg[i + 3] & 0xFF);
      if (marker >= 0xC0 && marker <= 0xC2) {
        return i + 4;
      }
      i += 2 + length;
    }
    return -1;
  }
}
