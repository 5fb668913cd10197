package io.bottleneck.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import io.bottleneck.train.ClassWeights;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Typed, checked reads of the keys under {@code bottleneck} in a merged configuration: each
 * read names the key (relative to {@code bottleneck}) and fails with a {@link ConfigError} that
 * says what the value must be ("Cannot set bottleneck.x to v: the value must be ..."). The section
 * settings ({@link TrainSettings} and the others) read their keys through it, so every message
 * has one form.
 */
final class ConfigValues {
  private static final Pattern TABLE_NAME =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");
  private static final Pattern ISO_DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");

  private final Config c;

  ConfigValues(Config c) {
    this.c = c;
  }

  /** The merged configuration itself, for what the typed reads do not cover. */
  Config config() {
    return c;
  }

  boolean isNull(String k) {
    return c.getIsNull(key(k));
  }

  long longValue(String k) {
    return c.getLong(key(k));
  }

  List<Double> doubleList(String k) {
    return c.getDoubleList(key(k));
  }

  List<Boolean> booleanList(String k) {
    return c.getBooleanList(key(k));
  }

  List<String> stringList(String k) {
    return c.getStringList(key(k));
  }

  List<Integer> plainIntList(String k) {
    return c.getIntList(key(k));
  }

  /** The values of a section of single values, as strings (the spark section). */
  Map<String, String> settings(String k) {
    Map<String, String> settings = new TreeMap<>();
    Config section = c.getConfig(key(k));
    for (Map.Entry<String, ConfigValue> e : section.root().entrySet()) {
      Object v = e.getValue().unwrapped();
      if (v instanceof Map || v instanceof List) {
        throw invalid(k + "." + e.getKey(), v, "a single value (quote Spark keys: \"spark.x.y\" = value)");
      }
      settings.put(e.getKey(), String.valueOf(v));
    }
    return settings;
  }

  static String key(String k) {
    return ConfigLoader.ROOT + "." + k;
  }

  static ConfigError invalid(String k, Object value, String expectation) {
    return new ConfigError(
        "Cannot set " + key(k) + " to " + value + ": the value must be " + expectation);
  }

  String string(String k) {
    return c.getIsNull(key(k)) ? "" : c.getString(key(k)).trim();
  }

  /** A catalog or database table name, optionally qualified by one database/schema; or empty. */
  String tableName(String k, String example) {
    String name = string(k);
    if (!name.isEmpty() && !TABLE_NAME.matcher(name).matches()) {
      throw invalid(k, name, "a table name such as " + example + " or db." + example);
    }
    return name;
  }

  LocalDate runDate(String k) {
    String value = string(k);
    if (value.isEmpty()) {
      return LocalDate.now(ZoneOffset.UTC);
    }
    String expectation = "a date YYYY-MM-DD such as 2026-11-23 (empty: today in UTC)";
    if (!ISO_DATE.matcher(value).matches()) {
      throw invalid(k, value, expectation);
    }
    try {
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) { // a well-formed but impossible date such as 2026-02-30
      throw invalid(k, value, expectation);
    }
  }

  static String orEnvironment(String configured, String variable) {
    if (!configured.isEmpty()) {
      return configured;
    }
    String fromEnvironment = System.getenv(variable);
    return fromEnvironment == null ? "" : fromEnvironment;
  }

  /** Every number key: NaN and infinities pass range checks written as {@code x < 0}. */
  double number(String k) {
    double v = c.getDouble(key(k));
    if (!Double.isFinite(v)) {
      throw invalid(k, v, "a finite number");
    }
    return v;
  }

  double positiveNumber(String k) {
    double v = number(k);
    if (!(v > 0)) {
      throw invalid(k, v, "positive");
    }
    return v;
  }

  /** A number in [0, 1). */
  double fraction(String k) {
    double v = number(k);
    if (!(v >= 0 && v < 1)) {
      throw invalid(k, v, "in [0, 1)");
    }
    return v;
  }

  int positive(String k) {
    return atLeast(k, 1);
  }

  int atLeast(String k, int min) {
    int v = c.getInt(key(k));
    if (v < min) {
      throw invalid(k, v, min == 1 ? "positive" : ">= " + min);
    }
    return v;
  }

  boolean bool(String k) {
    return c.getBoolean(key(k));
  }

  /** none, balanced, or one positive weight per class: "1.0,3.0" or a list [1.0, 3.0]. */
  ClassWeights classWeights(String k) {
    String spec;
    if (!c.getIsNull(key(k)) && c.getValue(key(k)).valueType() == ConfigValueType.LIST) {
      List<String> parts = new ArrayList<>();
      for (Object v : c.getList(key(k)).unwrapped()) {
        parts.add(String.valueOf(v));
      }
      spec = String.join(",", parts);
    } else {
      spec = string(k);
    }
    try {
      return ClassWeights.parse(spec);
    } catch (IllegalArgumentException e) {
      throw invalid(k, spec, "none, balanced, or positive weights in class order (the sorted labels) such as \"1.0,3.0\"");
    }
  }

  /** A list of layer-size lists, such as [[256], [512, 128]]; [] (no hidden layer) is allowed. */
  List<List<Integer>> layerSizeLists(String k) {
    ConfigList list = c.getList(key(k));
    List<List<Integer>> out = new ArrayList<>();
    for (ConfigValue v : list) {
      List<Integer> sizes = new ArrayList<>();
      boolean ok = v.valueType() == ConfigValueType.LIST;
      if (ok) {
        for (Object n : ((ConfigList) v).unwrapped()) {
          if (n instanceof Integer i && i >= 1) {
            sizes.add(i);
          } else {
            ok = false;
          }
        }
      }
      if (!ok) {
        throw invalid(k, list.unwrapped(), "a list of layer-size lists such as [[256], [512, 128]]");
      }
      out.add(List.copyOf(sizes));
    }
    return distinct(k, out);
  }

  /** The search values, rejected when one repeats (it would repeat trials). */
  static <T> List<T> distinct(String k, List<T> values) {
    if (new HashSet<>(values).size() != values.size()) {
      throw invalid(k, values, "a list of distinct values");
    }
    return List.copyOf(values);
  }

  List<Integer> intList(String k) {
    List<Integer> v = c.getIntList(key(k));
    for (int units : v) {
      if (units < 1) {
        throw invalid(k, v, "a list of positive layer sizes");
      }
    }
    return List.copyOf(v);
  }
}
