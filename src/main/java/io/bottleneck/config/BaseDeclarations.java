package io.bottleneck.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Reads {@code bottleneck.bases}: one {@link BaseDeclaration} per name, every key checked (the
 * model file itself is checked later, before Spark starts, by the command). Errors name the key.
 */
final class BaseDeclarations {
  static final String SECTION = "bases";
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");
  private static final Set<String> KEYS = Set.of("format", "uri", "input-size", "layout",
      "preprocessing", "channels", "scale", "mean", "std", "output", "pooling", "signature");
  private static final Set<String> EXPLICIT_KEYS = Set.of("channels", "scale", "mean", "std");
  static final int MIN_INPUT_SIZE = 16;
  static final int MAX_INPUT_SIZE = 2048;

  private BaseDeclarations() {}

  /** The declarations of {@code bottleneck.bases}, by name, in configuration order. */
  static Map<String, BaseDeclaration> read(Config c) {
    String section = ConfigLoader.ROOT + "." + SECTION;
    Map<String, BaseDeclaration> out = new LinkedHashMap<>();
    if (!c.hasPath(section)) {
      return out;
    }
    ConfigObject root = c.getObject(section);
    for (String name : new TreeSet<>(root.keySet())) {
      ConfigValue value = root.get(name);
      if (value.valueType() != ConfigValueType.OBJECT) {
        throw invalid(name, null, value.unwrapped(), "an object of keys " + String.join(", ", new TreeSet<>(KEYS)));
      }
      out.put(name, one(name, ((ConfigObject) value).toConfig()));
    }
    return out;
  }

  private static BaseDeclaration one(String name, Config d) {
    if (!NAME.matcher(name).matches()) {
      throw invalid(name, null, name, "a name of letters, digits, '_', '.' or '-' starting with a letter"
          + " (no '@' or '+': those build base specs)");
    }
    if (Bases.names().contains(name)) {
      throw invalid(name, null, name, "a name other than a built-in base's (" + String.join(", ", Bases.names()) + ")");
    }
    for (String key : d.root().keySet()) {
      if (!KEYS.contains(key)) {
        throw new ConfigError("Unknown configuration key " + key(name, key) + "; a declared base has the keys "
            + String.join(", ", new TreeSet<>(KEYS)));
      }
    }
    String formatName = required(d, name, "format");
    Format format = parseEnum(Format.class, formatName, name, "format", "onnx, savedmodel or keras");
    String uri = required(d, name, "uri");
    int inputSize = integer(d, name, "input-size");
    if (inputSize < MIN_INPUT_SIZE || inputSize > MAX_INPUT_SIZE) {
      throw invalid(name, "input-size", inputSize, "in [" + MIN_INPUT_SIZE + ", " + MAX_INPUT_SIZE + "] pixels");
    }
    Layout layout = d.hasPath("layout")
        ? parseEnum(Layout.class, d.getString("layout"), name, "layout", "NCHW or NHWC")
        : format == Format.ONNX ? Layout.NCHW : Layout.NHWC;
    String preprocessing = required(d, name, "preprocessing");
    boolean bgr;
    float scale;
    float[] mean;
    float[] std;
    if (preprocessing.equals("explicit")) {
      String channels = d.hasPath("channels") ? d.getString("channels") : "RGB";
      if (!channels.equals("RGB") && !channels.equals("BGR")) {
        throw invalid(name, "channels", channels, "RGB or BGR");
      }
      bgr = channels.equals("BGR");
      scale = d.hasPath("scale") ? (float) number(d, name, "scale") : 1f;
      if (!(scale > 0) || Float.isInfinite(scale)) {
        throw invalid(name, "scale", scale, "a positive number, e.g. 0.00392157 (1/255)");
      }
      mean = triple(d, name, "mean", 0f);
      std = triple(d, name, "std", 1f);
      for (float s : std) {
        if (!(s > 0)) {
          throw invalid(name, "std", Arrays.toString(std), "three positive numbers");
        }
      }
    } else {
      if (!BaseDeclaration.PRESETS.contains(preprocessing)) {
        throw invalid(name, "preprocessing", preprocessing, "one of " + String.join(", ", BaseDeclaration.PRESETS)
            + " (Keras' preprocess_input modes) or explicit");
      }
      for (String k : EXPLICIT_KEYS) {
        if (d.hasPath(k)) {
          throw new ConfigError("Cannot set " + key(name, k) + " with preprocessing = " + preprocessing
              + ": channels, scale, mean and std go with preprocessing = explicit");
        }
      }
      float[] p = BaseDeclaration.preset(preprocessing);
      bgr = p[0] == 1;
      scale = p[1];
      mean = new float[] {p[2], p[3], p[4]};
      std = new float[] {p[5], p[6], p[7]};
    }
    String output = required(d, name, "output");
    Pooling pooling = d.hasPath("pooling")
        ? parseEnum(Pooling.class, d.getString("pooling"), name, "pooling", "avg, max or none")
        : Pooling.AVG;
    String signature = d.hasPath("signature") ? d.getString("signature").trim() : "serving_default";
    if (d.hasPath("signature") && format != Format.SAVEDMODEL) {
      throw invalid(name, "signature", signature, "left out: only a savedmodel has signatures");
    }
    return new BaseDeclaration(name, format, uri, inputSize, layout, bgr, scale, mean, std,
        preprocessing, output, pooling, format == Format.SAVEDMODEL ? signature : "", "");
  }

  private static String key(String name, String k) {
    return ConfigLoader.ROOT + "." + SECTION + "." + name + (k == null ? "" : "." + k);
  }

  private static ConfigError invalid(String name, String k, Object value, String expectation) {
    return new ConfigError("Cannot set " + key(name, k) + " to " + value + ": the value must be " + expectation);
  }

  private static String required(Config d, String name, String k) {
    if (!d.hasPath(k) || d.getString(k).trim().isEmpty()) {
      throw new ConfigError("Missing " + key(name, k) + " (every declared base needs format, uri, input-size,"
          + " preprocessing and output)");
    }
    try {
      return d.getString(k).trim();
    } catch (ConfigException.WrongType e) {
      throw invalid(name, k, d.getValue(k).unwrapped(), "a string");
    }
  }

  private static int integer(Config d, String name, String k) {
    if (!d.hasPath(k)) {
      throw new ConfigError("Missing " + key(name, k) + " (the side images are resized to, e.g. 224)");
    }
    try {
      return d.getInt(k);
    } catch (ConfigException.WrongType e) {
      throw invalid(name, k, d.getValue(k).unwrapped(), "a whole number of pixels");
    }
  }

  private static double number(Config d, String name, String k) {
    try {
      return d.getDouble(k);
    } catch (ConfigException.WrongType e) {
      throw invalid(name, k, d.getValue(k).unwrapped(), "a number");
    }
  }

  private static float[] triple(Config d, String name, String k, float fallback) {
    if (!d.hasPath(k)) {
      return new float[] {fallback, fallback, fallback};
    }
    List<Double> values;
    try {
      values = d.getDoubleList(k);
    } catch (ConfigException.WrongType e) {
      throw invalid(name, k, d.getValue(k).unwrapped(), "a list of 3 numbers, one per channel in input order");
    }
    if (values.size() != 3) {
      throw invalid(name, k, values, "a list of 3 numbers, one per channel in input order");
    }
    return new float[] {values.get(0).floatValue(), values.get(1).floatValue(), values.get(2).floatValue()};
  }

  private static <E extends Enum<E>> E parseEnum(Class<E> type, String value, String name, String k, String expected) {
    try {
      return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw invalid(name, k, value, expected);
    }
  }
}
