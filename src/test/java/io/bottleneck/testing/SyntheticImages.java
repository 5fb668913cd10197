package io.bottleneck.testing;

import io.bottleneck.io.JpegVariants;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * A seeded, labeled image set of N >= 3 visually distinct classes for multi-class tests: each
 * image is one filled shape ({@link #CLASSES}: circle, square, triangle, then cross, ring, star)
 * of random size (50-85% of the shorter side), position, rotation and colour, on a background
 * of another colour with a soft gradient and Gaussian pixel noise, 96-160 px per side, JPEG
 * quality 0.9. A frozen ImageNet CNN separates the shapes by their edges and corners (curves
 * only; four right angles; three acute angles; ...), whatever the colours.
 *
 * <p>Image {@code i} of a class is drawn from (seed, class name, i) alone: the same seed writes
 * byte-identical files, and a larger set or more classes extend a smaller one without changing
 * its images. Every image differs (the noise), so no two share a content hash.
 */
public final class SyntheticImages {
  /** Class names in the order {@code classes(n)} takes them; the first three are the easiest. */
  public static final List<String> CLASSES = List.of("circle", "square", "triangle", "cross", "ring", "star");

  public static final int MIN_SIDE = 96;
  public static final int MAX_SIDE = 160;
  private static final double NOISE_SIGMA = 8.0;

  private SyntheticImages() {}

  /** The first {@code n} class names, 3 <= n <= {@link #CLASSES}.size(). */
  public static List<String> classes(int n) {
    if (n < 3 || n > CLASSES.size()) {
      throw new IllegalArgumentException("n must be in [3, " + CLASSES.size() + "] but was " + n);
    }
    return CLASSES.subList(0, n);
  }

  /**
   * {@code perClass} images of each of the first {@code classes} classes, one folder per class
   * ({@code dir/<class>/<class>_<i>.jpg}, for {@code --label-from dir}). Returns the files
   * written, class by class.
   */
  public static List<Path> writeFolders(Path dir, int classes, int perClass, long seed) {
    return write(dir, classes, 0, perClass, seed, true);
  }

  /**
   * The same images in one flat folder with Kaggle names ({@code dir/<class>.<i>.jpg}, for
   * {@code --label-from filename}).
   */
  public static List<Path> writeFlat(Path dir, int classes, int perClass, long seed) {
    return write(dir, classes, 0, perClass, seed, false);
  }

  /**
   * Images {@code from} .. {@code from + perClass - 1} of each class, flat with Kaggle names:
   * with the training set's seed and {@code from} = its {@code perClass}, images of the same
   * distribution that the training set does not hold (a prediction or test set whose true class
   * is the file name's prefix).
   */
  public static List<Path> writeFlat(Path dir, int classes, int from, int perClass, long seed) {
    return write(dir, classes, from, perClass, seed, false);
  }

  private static List<Path> write(Path dir, int classes, int from, int perClass, long seed, boolean folders) {
    if (perClass < 1 || from < 0) {
      throw new IllegalArgumentException("perClass must be >= 1 and from >= 0 but were " + perClass + ", " + from);
    }
    List<Path> written = new ArrayList<>();
    try {
      for (String name : classes(classes)) {
        Path target = folders ? Files.createDirectories(dir.resolve(name)) : Files.createDirectories(dir);
        for (int i = from; i < from + perClass; i++) {
          Path file = target.resolve(folders ? name + "_" + i + ".jpg" : name + "." + i + ".jpg");
          Files.write(file, jpeg(name, i, seed));
          written.add(file);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return written;
  }

  /** The JPEG bytes of image {@code i} of class {@code name}. */
  public static byte[] jpeg(String name, int i, long seed) {
    return JpegVariants.write(image(name, i, seed), false);
  }

  /** Image {@code i} of class {@code name}, before JPEG encoding. */
  public static BufferedImage image(String name, int i, long seed) {
    int classIndex = CLASSES.indexOf(name);
    if (classIndex < 0) {
      throw new IllegalArgumentException("Unknown class " + name + "; classes: " + CLASSES);
    }
    SplittableRandom random = new SplittableRandom(mix(seed, classIndex, i));
    int w = random.nextInt(MIN_SIDE, MAX_SIDE + 1);
    int h = random.nextInt(MIN_SIDE, MAX_SIDE + 1);
    float[] fg = new float[3];
    float[] bg = new float[3];
    colours(random, fg, bg);

    BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
      Color bgColour = Color.getHSBColor(bg[0], bg[1], bg[2]);
      Color bgShade = Color.getHSBColor(bg[0], bg[1], Math.max(0f, bg[2] - 0.15f));
      g.setPaint(new GradientPaint(0, 0, bgColour, w, h, bgShade));
      g.fillRect(0, 0, w, h);

      double size = Math.min(w, h) * (0.5 + 0.35 * random.nextDouble());
      double cx = size / 2 + random.nextDouble() * (w - size);
      double cy = size / 2 + random.nextDouble() * (h - size);
      double angle = random.nextDouble() * 2 * Math.PI;
      Shape shape = shape(name, size, random);
      AffineTransform at = new AffineTransform();
      at.translate(cx, cy);
      at.rotate(name.equals("square") ? Math.toRadians(random.nextDouble(-15, 15)) : angle);
      g.setColor(Color.getHSBColor(fg[0], fg[1], fg[2]));
      g.fill(at.createTransformedShape(shape));
      if (name.equals("ring")) {
        g.setColor(bgColour);
        g.fill(at.createTransformedShape(new Ellipse2D.Double(-size / 4, -size / 4, size / 2, size / 2)));
      }
    } finally {
      g.dispose();
    }
    addNoise(img, random);
    return img;
  }

  /** A shape of diameter about {@code size}, centred on the origin. */
  private static Shape shape(String name, double size, SplittableRandom random) {
    double r = size / 2;
    switch (name) {
      case "circle":
      case "ring":
        return new Ellipse2D.Double(-r, -r, size, size);
      case "square":
        // fits the circle of diameter size when turned by up to 15 degrees
        double side = size * 0.72;
        return new Rectangle2D.Double(-side / 2, -side / 2, side, side);
      case "triangle":
        return polygon(3, r, 0, random);
      case "cross":
        Path2D.Double cross = new Path2D.Double();
        double t = size / 6;
        cross.append(new Rectangle2D.Double(-r, -t, size, 2 * t), false);
        cross.append(new Rectangle2D.Double(-t, -r, 2 * t, size), false);
        return cross;
      case "star":
        return polygon(5, r, r * 0.4, random);
      default:
        throw new IllegalArgumentException("Unknown class " + name);
    }
  }

  /** A regular polygon ({@code inner} = 0) or star with {@code points} outer points. */
  private static Shape polygon(int points, double outer, double inner, SplittableRandom random) {
    Path2D.Double p = new Path2D.Double();
    int vertices = inner > 0 ? 2 * points : points;
    for (int v = 0; v < vertices; v++) {
      double radius = inner > 0 && v % 2 == 1 ? inner : outer;
      double a = -Math.PI / 2 + 2 * Math.PI * v / vertices;
      double x = radius * Math.cos(a);
      double y = radius * Math.sin(a);
      if (v == 0) {
        p.moveTo(x, y);
      } else {
        p.lineTo(x, y);
      }
    }
    p.closePath();
    return p;
  }

  /** Foreground and background HSB colours at least 0.35 apart in brightness. */
  private static void colours(SplittableRandom random, float[] fg, float[] bg) {
    float dark = (float) (0.1 + 0.3 * random.nextDouble());
    float light = (float) (0.75 + 0.25 * random.nextDouble());
    boolean lightShape = random.nextBoolean();
    fg[0] = (float) random.nextDouble();
    fg[1] = (float) (0.4 + 0.6 * random.nextDouble());
    fg[2] = lightShape ? light : dark;
    bg[0] = (float) random.nextDouble();
    bg[1] = (float) (0.1 + 0.5 * random.nextDouble());
    bg[2] = lightShape ? dark + 0.15f : light;
  }

  private static void addNoise(BufferedImage img, SplittableRandom random) {
    int w = img.getWidth();
    int h = img.getHeight();
    int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
    Random gaussian = new Random(random.nextLong());
    for (int p = 0; p < rgb.length; p++) {
      int n = (int) Math.round(gaussian.nextGaussian() * NOISE_SIGMA);
      int r = clamp(((rgb[p] >> 16) & 0xFF) + n);
      int gr = clamp(((rgb[p] >> 8) & 0xFF) + n);
      int b = clamp((rgb[p] & 0xFF) + n);
      rgb[p] = r << 16 | gr << 8 | b;
    }
    img.setRGB(0, 0, w, h, rgb, 0, w);
  }

  private static int clamp(int v) {
    return Math.max(0, Math.min(255, v));
  }

  private static long mix(long seed, int classIndex, int i) {
    long z = seed * 0x9E3779B97F4A7C15L + (classIndex + 1) * 0xC2B2AE3D27D4EB4FL + i * 0x165667B19E3779F9L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
