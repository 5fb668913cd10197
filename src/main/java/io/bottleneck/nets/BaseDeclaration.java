package io.bottleneck.nets;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A frozen base the user declares in configuration ({@code bottleneck.bases.<name>}): their own
 * network file, how images enter it and which tensor holds the features. Selected by name like a
 * built-in base. Immutable and serializable: it travels to the executors with the featurize
 * tasks (the model bytes travel separately, broadcast once).
 *
 * @param name the base id users select it by ({@code --base <name>})
 * @param format the file's format
 * @param uri the model file (a directory for a SavedModel), any Hadoop FileSystem URI
 * @param inputSize images are resized to {@code inputSize x inputSize}
 * @param layout the input tensor's layout, also that of a 4-D output
 * @param bgr whether channels enter in BGR order (else RGB)
 * @param scale multiplies each 0-255 channel value first
 * @param mean subtracted after scaling, per channel in the input's channel order
 * @param std divides after the mean is subtracted, per channel in the input's channel order
 * @param preprocessingName the preset ({@code tf}, {@code torch}, {@code caffe}) or {@code explicit}
 * @param output the tensor to read: an ONNX value name (the graph is cut there), a SavedModel
 *     signature output, a Keras layer name
 * @param pooling how a 4-D output becomes a vector
 * @param signature the SavedModel signature (SavedModel only)
 * @param sha256 hex SHA-256 of the model file(s); empty until the file has been read
 */
public record BaseDeclaration(
    String name,
    Format format,
    String uri,
    int inputSize,
    Layout layout,
    boolean bgr,
    float scale,
    float[] mean,
    float[] std,
    String preprocessingName,
    String output,
    Pooling pooling,
    String signature,
    String sha256)
    implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Model file formats. */
  public enum Format {
    ONNX, SAVEDMODEL, KERAS;

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** The model's file name in a model bundle: a SavedModel directory is packed into one zip. */
    public String bundleFile() {
      return this == SAVEDMODEL ? "model.savedmodel.zip" : "model." + key();
    }
  }

  /** Input (and 4-D output) tensor layouts. */
  public enum Layout {
    NCHW, NHWC
  }

  /** How a 4-D output is reduced to one vector per image. */
  public enum Pooling {
    AVG, MAX, NONE;

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** Keras' {@code preprocess_input} modes, as {@code (bgr, scale, mean, std)}. */
  public static final List<String> PRESETS = List.of("tf", "torch", "caffe");

  public BaseDeclaration {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(uri, "uri");
    Objects.requireNonNull(layout, "layout");
    Objects.requireNonNull(output, "output");
    Objects.requireNonNull(pooling, "pooling");
    mean = mean.clone();
    std = std.clone();
    if (mean.length != 3 || std.length != 3) {
      throw new IllegalArgumentException("mean and std need 3 values each");
    }
    signature = signature == null ? "" : signature;
    sha256 = sha256 == null ? "" : sha256;
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  /** The same declaration with the model's SHA-256. */
  public BaseDeclaration withSha256(String hex) {
    return new BaseDeclaration(name, format, uri, inputSize, layout, bgr, scale, mean, std,
        preprocessingName, output, pooling, signature, hex);
  }

  /** The same declaration reading its model from another place (a model bundle). */
  public BaseDeclaration withUri(String newUri) {
    return new BaseDeclaration(name, format, newUri, inputSize, layout, bgr, scale, mean, std,
        preprocessingName, output, pooling, signature, sha256);
  }

  /** {@code (bgr, scale, mean, std)} of a preset, as {@code [bgr ? 1 : 0, scale, m0, m1, m2, s0, s1, s2]}. */
  public static float[] preset(String preset) {
    return switch (preset) {
      // [-1, 1]: x / 127.5 - 1
      case "tf" -> new float[] {0, 1f / 127.5f, 1, 1, 1, 1, 1, 1};
      // x / 255, then ImageNet mean and std (RGB)
      case "torch" -> new float[] {0, 1f / 255f, 0.485f, 0.456f, 0.406f, 0.229f, 0.224f, 0.225f};
      // BGR, 0-255 minus the ImageNet means (B, G, R)
      case "caffe" -> new float[] {1, 1f, 103.939f, 116.779f, 123.68f, 1, 1, 1};
      default -> throw new IllegalArgumentException("Unknown preprocessing '" + preset + "'; one of "
          + String.join(", ", PRESETS) + " or explicit");
    };
  }

  /**
   * The network input this declaration asks for: bilinear resize to {@link #inputSize()}, then
   * {@code (v * scale - mean) / std} per channel. Its id names every number and the model's
   * hash, so cached features of another file or another preprocessing are never reused.
   */
  public Preprocessing preprocessing() {
    float[] s = new float[3];
    float[] o = new float[3];
    for (int c = 0; c < 3; c++) {
      s[c] = scale / std[c];
      o[c] = -mean[c] / std[c];
    }
    String id = (bgr ? "bgr" : "rgb") + "-" + inputSize + "-bilinear-" + preprocessingName
        + "-s" + scale + "-m" + join(mean) + "-d" + join(std) + "-" + layout.name().toLowerCase(Locale.ROOT)
        + "-" + output.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + pooling.key()
        + "-" + format.key() + "-sha256-" + (sha256.length() >= 16 ? sha256.substring(0, 16) : sha256);
    return Preprocessing.affine(id, inputSize, bgr, s, o);
  }

  private static String join(float[] values) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < values.length; i++) {
      b.append(i == 0 ? "" : "_").append(values[i]);
    }
    return b.toString();
  }

  /** The keys of {@code bottleneck.bases.<name>}, as in the configuration and the model bundle. */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("format", format.key());
    m.put("uri", uri);
    m.put("input-size", inputSize);
    m.put("layout", layout.name());
    m.put("preprocessing", preprocessingName);
    m.put("channels", bgr ? "BGR" : "RGB");
    m.put("scale", (double) scale);
    m.put("mean", toList(mean));
    m.put("std", toList(std));
    m.put("output", output);
    m.put("pooling", pooling.key());
    m.put("signature", signature);
    m.put("sha256", sha256);
    return m;
  }

  /** A declaration {@link #toMap() written} into a model bundle; {@code source} names it in errors. */
  @SuppressWarnings("unchecked")
  public static BaseDeclaration fromMap(String name, Map<String, Object> m, String source) {
    try {
      List<Number> mean = (List<Number>) m.get("mean");
      List<Number> std = (List<Number>) m.get("std");
      return new BaseDeclaration(name,
          Format.valueOf(m.get("format").toString().toUpperCase(Locale.ROOT)),
          m.get("uri").toString(),
          ((Number) m.get("input-size")).intValue(),
          Layout.valueOf(m.get("layout").toString()),
          "BGR".equals(m.get("channels")),
          ((Number) m.get("scale")).floatValue(),
          new float[] {mean.get(0).floatValue(), mean.get(1).floatValue(), mean.get(2).floatValue()},
          new float[] {std.get(0).floatValue(), std.get(1).floatValue(), std.get(2).floatValue()},
          m.get("preprocessing").toString(),
          m.get("output").toString(),
          Pooling.valueOf(m.get("pooling").toString().toUpperCase(Locale.ROOT)),
          String.valueOf(m.getOrDefault("signature", "")),
          String.valueOf(m.getOrDefault("sha256", "")));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(source + ": declared base " + name + " is not readable: " + e, e);
    }
  }

  private static List<Double> toList(float[] values) {
    return List.of((double) values[0], (double) values[1], (double) values[2]);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BaseDeclaration d
        && name.equals(d.name) && format == d.format && uri.equals(d.uri) && inputSize == d.inputSize
        && layout == d.layout && bgr == d.bgr && Float.compare(scale, d.scale) == 0
        && Arrays.equals(mean, d.mean) && Arrays.equals(std, d.std)
        && Objects.equals(preprocessingName, d.preprocessingName) && output.equals(d.output)
        && pooling == d.pooling && signature.equals(d.signature) && sha256.equals(d.sha256);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, format, uri, inputSize, layout, output, sha256);
  }

  @Override
  public String toString() {
    return "base " + name + " (" + format.key() + " " + uri + ")";
  }
}
