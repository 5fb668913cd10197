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
