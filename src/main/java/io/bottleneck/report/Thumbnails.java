package io.bottleneck.report;

import io.bottleneck.io.Images;
import io.bottleneck.io.UndecodableImageException;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Small JPEG copies of images for the report's example grids. */
final class Thumbnails {
  private Thumbnails() {}

  /**
   * The image scaled to fit a {@code box}×{@code box} square (never enlarged), as JPEG bytes.
   *
   * @throws UndecodableImageException when the bytes are not an image
   */
  static byte[] jpeg(byte[] imageBytes, String name, int box) throws UndecodableImageException {
    return jpeg(imageBytes, name, box, true);
  }

  /** As {@link #jpeg(byte[], String, int)}, upright by the Exif orientation only when {@code exifOrientation}. */
  static byte[] jpeg(byte[] imageBytes, String name, int box, boolean exifOrientation) throws UndecodableImageException {
    BufferedImage image = Images.decode(imageBytes, name, exifOrientation);
    double scale = Math.min(1.0, (double) box / Math.max(image.getWidth(), image.getHeight()));
    int w = Math.max(1, (int) Math.round(image.getWidth() * scale));
    int h = Math.max(1, (int) Math.round(image.getHeight() * scale));
    BufferedImage thumb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = thumb.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
      g.drawImage(image, 0, 0, w, h, null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(thumb, "jpeg", out)) {
        throw new IllegalStateException("No JPEG writer in this JVM");
      }
    } catch (IOException e) {
      throw new UndecodableImageException(name, "could not encode a thumbnail: " + e.getMessage(), e);
    }
    return out.toByteArray();
  }
}
