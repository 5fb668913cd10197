package io.bottleneck.nets;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.awt.image.SinglePixelPackedSampleModel;
import java.awt.image.WritableRaster;
import java.util.List;
import java.util.Objects;

/**
 * Turns images into a network input: bilinear resize to a square without cropping (like Keras
 * {@code load_img(target_size=...)}), then a per-channel affine map {@code v * scale + offset}
 * in RGB or BGR channel order, laid out NCHW (DL4J) or NHWC (TensorFlow). Both layouts hold
 * bit-identical values: only the position of each value differs.
 *
 * <p>The resize is implemented here rather than with Java2D so results are identical on every
 * JVM and platform (feature caches and golden tests depend on it), and so resizing, colour
 * conversion and the NCHW layout happen in one pass over the pixels. It samples at pixel
 * centres ("half-pixel" convention, as PIL and TF2 {@code resize(..., 'bilinear')} without
 * antialiasing) and interpolates in float, without rounding back to 8 bits.
 *
 * <p>Immutable and thread-safe.
 */
public final class Preprocessing {

  private final String id;
  private final int size;
  private final boolean bgr;
  private final float[] scale;
  private final float[] offset;

  private Preprocessing(String id, int size, boolean bgr, float[] scale, float[] offset) {
    this.id = id;
    this.size = size;
    this.bgr = bgr;
    this.scale = scale;
    this.offset = offset;
  }

  /** RGB scaled to [-1, 1] ({@code v / 127.5 - 1}): Keras MobileNet's preprocess_input. */
  public static Preprocessing plusMinusOne(int size) {
    float s = 1f / 127.5f;
    return new Preprocessing("rgb-" + size + "-bilinear-pm1-v1", size, false,
        new float[] {s, s, s}, new float[] {-1f, -1f, -1f});
  }

  /** Caffe style: BGR 0-255 minus the ImageNet channel means (B 103.939, G 116.779, R 123.68). */
  public static Preprocessing caffe(int size) {
    return new Preprocessing("bgr-" + size + "-bilinear-caffemean-v1", size, true,
        new float[] {1f, 1f, 1f}, new float[] {-103.939f, -116.779f, -123.68f});
  }

  /**
   * Any per-channel affine map {@code v * scale[c] + offset[c]} ({@code scale} and {@code offset}
   * in output channel order), for declared bases. {@code id} must describe every number: it is
   * part of the feature cache key.
   */
  public static Preprocessing affine(String id, int size, boolean bgr, float[] scale, float[] offset) {
    if (scale.length != 3 || offset.length != 3) {
      throw new IllegalArgumentException("scale and offset need 3 values each");
    }
    if (size < 1) {
      throw new IllegalArgumentException("size must be positive but was " + size);
    }
    return new Preprocessing(id, size, bgr, scale.clone(), offset.clone());
  }

  /** Stable description; see {@link ImageBase#preprocessingId()}. */
  public String id() {
    return id;
  }

  /** Output side in pixels. */
  public int size() {
    return size;
  }

  /** Whether channels are in BGR order (else RGB). */
  public boolean bgr() {
    return bgr;
  }

  /** The per-channel scale, in output channel order (a copy). */
  public float[] scale() {
    return scale.clone();
  }

  /** The per-channel offset, in output channel order (a copy). */
  public float[] offset() {
    return offset.clone();
  }

  /** All images as one NCHW float buffer of length {@code n * 3 * size * size}. */
  public float[] toNchw(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    int plane = size * size;
    float[] out = new float[Math.multiplyExact(images.size(), 3 * plane)];
    for (int i = 0; i < images.size(); i++) {
      BufferedImage image = images.get(i);
      if (image == null) {
        throw new IllegalArgumentException("Image " + i + " of the batch is null");
      }
      fill(image, out, i * 3 * plane);
    }
    return out;
  }

  /** All images as one NHWC float buffer of length {@code n * size * size * 3}. */
  public float[] toNhwc(List<BufferedImage> images) {
    Objects.requireNonNull(images, "images");
    int perImage = 3 * size * size;
    float[] out = new float[Math.multiplyExact(images.size(), perImage)];
    for (int i = 0; i < images.size(); i++) {
      BufferedImage image = images.get(i);
      if (image == null) {
        throw new IllegalArgumentException("Image " + i + " of the batch is null");
      }
      fillNhwc(image, out, i * perImage);
    }
    return out;
  }

  /**
   * The image resized as {@link #fill} resizes it (bilinear, half-pixel centres, no crop), each
   * interpolated value rounded to the nearest integer (halves up) and clamped to 0-255, before
   * any scale, offset or channel reordering: {@code size * size * 3} bytes, row-major, RGB
   * interleaved (HWC). What an exported model takes as its {@code image} input (see
   * docs/export.md): turn the image upright first ({@link io.bottleneck.io.Images#decode(byte[],
   * String, boolean)} with {@code true}). An image already {@code size x size} comes back with
   * its pixels unchanged.
   */
  public byte[] resizedRgb(BufferedImage image) {
    Objects.requireNonNull(image, "image");
    Preprocessing identity = new Preprocessing(id, size, false, new float[] {1f, 1f, 1f}, new float[3]);
    float[] values = new float[3 * size * size];
    identity.fillNhwc(image, values, 0);
    byte[] out = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = (byte) Math.max(0, Math.min(255, Math.round(values[i])));
    }
    return out;
  }

  /** Writes one image's three channel planes ({@code 3 * size * size} floats) at {@code at}. */
  public void fill(BufferedImage image, float[] dst, int at) {
    // NCHW: channels are planes apart, neighbouring pixels adjacent
    fill(image, dst, at, size * size, 1);
  }

  /** Writes one image as {@code size * size} interleaved pixels of 3 channels at {@code at}. */
  public void fillNhwc(BufferedImage image, float[] dst, int at) {
    fill(image, dst, at, 1, 3);
  }

  /**
   * The one resize + colour pass behind both layouts, so NCHW and NHWC values are identical:
   * value (channel c, pixel o) goes to {@code at + c * channelStride + o * pixelStride}.
   */
  private void fill(BufferedImage image, float[] dst, int at, int channelStride,
      int pixelStride) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] px = rgbPixels(image);
    int[] x0 = new int[size];
    int[] x1 = new int[size];
    float[] fx = new float[size];
    samplingGrid(w, x0, x1, fx);
    int[] y0 = new int[size];
    int[] y1 = new int[size];
    float[] fy = new float[size];
    samplingGrid(h, y0, y1, fy);

    // offset of R, G and B in the output (BGR puts blue first)
    int rAt = at + (bgr ? 2 : 0) * channelStride;
    int gAt = at + channelStride;
    int bAt = at + (bgr ? 0 : 2) * channelStride;
    float rScale = scale[bgr ? 2 : 0];
    float gScale = scale[1];
    float bScale = scale[bgr ? 0 : 2];
    float rOffset = offset[bgr ? 2 : 0];
    float gOffset = offset[1];
    float bOffset = offset[bgr ? 0 : 2];

    for (int oy = 0; oy < size; oy++) {
      int row0 = y0[oy] * w;
      int row1 = y1[oy] * w;
      float wy = fy[oy];
      int o = oy * size * pixelStride;
      for (int ox = 0; ox < size; ox++, o += pixelStride) {
        int p00 = px[row0 + x0[ox]];
        int p01 = px[row0 + x1[ox]];
        int p10 = px[row1 + x0[ox]];
        int p11 = px[row1 + x1[ox]];
        float wx = fx[ox];
        float r = lerp2(p00 >>> 16 & 0xFF, p01 >>> 16 & 0xFF, p10 >>> 16 & 0xFF,
            p11 >>> 16 & 0xFF, wx, wy);
        float g = lerp2(p00 >>> 8 & 0xFF, p01 >>> 8 & 0xFF, p10 >>> 8 & 0xFF,
            p11 >>> 8 & 0xFF, wx, wy);
        float b = lerp2(p00 & 0xFF, p01 & 0xFF, p10 & 0xFF, p11 & 0xFF, wx, wy);
        dst[rAt + o] = r * rScale + rOffset;
        dst[gAt + o] = g * gScale + gOffset;
        dst[bAt + o] = b * bScale + bOffset;
      }
    }
  }

  private static float lerp2(int a00, int a01, int a10, int a11, float wx, float wy) {
    float top = a00 + (a01 - a00) * wx;
    float bottom = a10 + (a11 - a10) * wx;
    return top + (bottom - top) * wy;
  }

  /**
   * For each output coordinate: the two source indices and the weight of the second. Output
   * pixel centre {@code o + 0.5} maps to source {@code (o + 0.5) * in / size - 0.5}, clamped
   * to the image. Computed in float exactly as TensorFlow's {@code ResizeBilinear} with
   * half-pixel centres does, so that the TF engine's in-graph resize gives the same weights.
   */
  private void samplingGrid(int in, int[] lo, int[] hi, float[] frac) {
    float ratio = (float) in / size;
    for (int o = 0; o < size; o++) {
      float src = (o + 0.5f) * ratio - 0.5f;
      float floor = (float) Math.floor(src);
      lo[o] = Math.max((int) floor, 0);
      hi[o] = Math.min((int) Math.ceil(src), in - 1);
      // below 0 or above in - 1 both indices are the edge pixel, so the weight does not matter
      frac[o] = src - floor;
    }
  }

  /**
   * The data array of a TYPE_INT_RGB image when it holds exactly its pixels, row-major with no
   * padding or offset (not a sub-image); null otherwise.
   */
  private static int[] wholeBackingArray(BufferedImage image) {
    WritableRaster raster = image.getRaster();
    if (raster.getDataBuffer() instanceof DataBufferInt buffer
        && buffer.getNumBanks() == 1
        && buffer.getOffset() == 0
        && raster.getSampleModelTranslateX() == 0
        && raster.getSampleModelTranslateY() == 0
        && raster.getSampleModel() instanceof SinglePixelPackedSampleModel model
        && model.getScanlineStride() == image.getWidth()
        && buffer.getData().length == image.getWidth() * image.getHeight()) {
      return buffer.getData();
    }
    return null;
  }

  /** Packed 0xRRGGBB pixels, row-major; avoids a colour-model conversion for TYPE_INT_RGB. */
  static int[] rgbPixels(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    if (image.getType() == BufferedImage.TYPE_INT_RGB) {
      int[] whole = wholeBackingArray(image);
      if (whole != null) {
        return whole; // read only: no copy of what Images.decode returns
      }
    }
    int[] px = new int[w * h];
    if (image.getType() == BufferedImage.TYPE_INT_RGB) {
      // works for sub-images too: the raster handles offsets and scanline stride
      return (int[]) image.getRaster().getDataElements(0, 0, w, h, px);
    }
    if (image.getType() == BufferedImage.TYPE_3BYTE_BGR) {
      // what ImageIO decodes JPEGs to; getRGB would convert pixel by pixel, ~5x slower.
      // Data elements come in band order, which is R, G, B whatever the byte layout.
      byte[] rgb = (byte[]) image.getRaster().getDataElements(0, 0, w, h, new byte[3 * w * h]);
      for (int i = 0, j = 0; i < px.length; i++, j += 3) {
        px[i] = (rgb[j] & 0xFF) << 16 | (rgb[j + 1] & 0xFF) << 8 | (rgb[j + 2] & 0xFF);
      }
      return px;
    }
    return image.getRGB(0, 0, w, h, px, 0, w);
  }
}
