package io.bottleneck.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigResolveOptions;
import com.typesafe.config.ConfigValue;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Builds the one {@link JobConfig} of a job. Fixed precedence, later wins:
 *
 * <ol>
 *   <li>the bundled defaults ({@code conf/bottleneck.conf}, copied into the jar),
 *   <li>the file given with {@code --conf},
 *   <li>each {@code --set key=value}, in order,
 *   <li>the command's own options (each maps to one key).
 * </ol>
 *
 * Keys absent from the defaults are rejected, except under {@code bottleneck.spark}, which
 * passes Spark settings through. Credentials are never accepted from {@code --set} (see
 * {@link #CREDENTIAL_KEY}): a command line ends up in shell history, process listings and
 * job-submission logs.
 */
public final class ConfigLoader {
  static final String ROOT = "bottleneck";
  static final String DEFAULTS_RESOURCE = "io/bottleneck/config/bottleneck.conf";
  private static final String SPARK_PREFIX = ROOT + ".spark";

  /**
   * A --set key that names a credential: Spark's own redaction rule ({@code
   * spark.redaction.regex}), so fs.s3a.access.key, fs.s3a.secret.key, fs.s3a.session.token and
   * any *.password are caught whatever prefix they come with.
   */
  static final Pattern CREDENTIAL_KEY = Pattern.compile("(?i)secret|password|token|access[.]key");

  private ConfigLoader() {}

  public static Config defaults() {
    Config defaults =
        ConfigFactory.parseResources(
            ConfigLoader.class.getClassLoader(),
            DEFAULTS_RESOURCE,
            ConfigParseOptions.defaults().setAllowMissing(false));
    return defaults;
  }

  /**
   * @param confFile the --conf file, or null
   * @param sets the --set key=value pairs in order; keys may omit the "bottleneck." prefix
   * @param options the command's options, as key to value (already named by config key)
   */
  public static JobConfig load(File confFile, List<String> sets, Map<String, Object> options) {
    return JobConfig.from(resolve(confFile, sets, options));
  }

  /**
   * The merged and resolved configuration {@link #load} reads its {@link JobConfig} from (what
   * {@code --dry-run} prints); same arguments, same errors for files and unknown keys.
   */
  public static Config resolve(File confFile, List<String> sets, Map<String, Object> options) {
    Config defaults = defaults();
    List<Config> layers = new ArrayList<>();
    if (confFile != null) {
      if (!confFile.isFile()) {
        throw new ConfigError("--conf: file not found: " + confFile);
      }
      Config fromFile;
      try {
        fromFile = ConfigFactory.parseFile(confFile, ConfigParseOptions.defaults());
      } catch (ConfigException e) {
        throw new ConfigError("--conf " + confFile + ": " + e.getMessage(), e);
      }
      checkKnownKeys(fromFile, defaults, "in " + confFile);
      layers.add(fromFile);
    }
    for (String set : sets) {
      rejectCredential(set);
      int eq = set.indexOf('=');
      if (eq <= 0) {
        throw new ConfigError("--set expects key=value but was: " + set);
      }
      String key = qualify(set.substring(0, eq).trim());
      String raw = set.substring(eq + 1).trim();
      Config one = parseSet(key, raw);
      checkKnownKeys(one, defaults, "in --set " + set);
      layers.add(one);
    }
    Map<String, Object> optionValues = new LinkedHashMap<>();
    options.forEach(
        (k, v) -> {
          if (v != null) {
            optionValues.put(qualify(k), v);
          }
        });
    Config merged = ConfigFactory.parseMap(quoteSparkKeys(optionValues), "command-line options");
    for (int i = layers.size() - 1; i >= 0; i--) {
      merged = merged.withFallback(layers.get(i));
    }
    merged = merged.withFallback(defaults);
    try {
      merged = merged.resolve(ConfigResolveOptions.defaults().setUseSystemEnvironment(true));
    } catch (ConfigException e) {
      throw new ConfigError(e.getMessage(), e);
    }
    return merged;
  }

  /**
   * Refuses a --set whose key names a credential. The message names only the key (everything
   * before '=', ':' or a space), never the value.
   */
  private static void rejectCredential(String set) {
    String key = set.split("[=:\\s]", 2)[0].trim();
    if (CREDENTIAL_KEY.matcher(key).find()) {
      throw new ConfigError(
          "--set " + key + ": credentials are not accepted on the command line (keys matching "
              + CREDENTIAL_KEY.pattern() + "); put them in the --conf file, e.g. as ${?ENV_VAR}, or in the"
              + " environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY for s3a://)");
    }
  }

  /** Parses one --set value as HOCON so lists and numbers keep their types. */
  private static Config parseSet(String key, String raw) {
    String path = toPath(key);
    try {
      return ConfigFactory.parseString(path + " = " + raw);
    } catch (ConfigException e) {
      // a bare string with characters HOCON would misread (":" in URIs, etc.)
      try {
        return ConfigFactory.parseString(path + " = " + ConfigQuoting.quote(raw));
      } catch (ConfigException again) {
        throw new ConfigError("--set " + key + ": cannot parse value '" + raw + "'", again);
      }
    }
  }

  /**
   * "train.epochs" and "bottleneck.train.epochs" name the same key; "spark.x.y" is the Spark
   * setting spark.x.y (bottleneck.spark."spark.x.y").
   */
  private static String qualify(String key) {
    if (key.startsWith("spark.")) {
      return SPARK_PREFIX + "." + key;
    }
    return key.startsWith(ROOT + ".") ? key : ROOT + "." + key;
  }

  /** Spark keys contain dots; under bottleneck.spark they are one quoted path element. */
  private static String toPath(String key) {
    if (key.startsWith(SPARK_PREFIX + ".")) {
      return SPARK_PREFIX + "." + ConfigQuoting.quote(key.substring(SPARK_PREFIX.length() + 1));
    }
    return key;
  }

  private static Map<String, Object> quoteSparkKeys(Map<String, Object> values) {
    Map<String, Object> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(toPath(k), v));
    return out;
  }

  private static void checkKnownKeys(Config user, Config defaults, String where) {
    TreeSet<String> unknown = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : user.entrySet()) {
      String key = e.getKey();
      if (key.startsWith(SPARK_PREFIX + ".") || key.startsWith(ROOT + "." + BaseDeclarations.SECTION + ".")) {
        continue; // Spark's own keys; declared bases, whose keys BaseDeclarations checks
      }
      if (!defaults.hasPathOrNull(key)) {
        unknown.add(key);
      }
    }
    if (!unknown.isEmpty()) {
      throw new ConfigError(
          "Unknown configuration key"
              + (unknown.size() > 1 ? "s " : " ")
              + String.join(", ", unknown)
              + " "
              + where
              + "; see conf/bottleneck.conf for the keys");
    }
  }
}
