package io.bottleneck.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The resolved configuration as plain maps, for printing ({@code --dry-run}): the
 * {@code bottleneck} tree, keys sorted, with the value of every key that looks like a credential
 * replaced by {@value #MASK} so that a printed or logged configuration never leaks one.
 */
public final class EffectiveConfig {
  public static final String MASK = "***";
  /**
   * Spellings masked beyond what the command line refuses ({@link ConfigLoader#CREDENTIAL_KEY}):
   * masking a value that is no secret costs nothing. Both are searched in the whole key path, so
   * Spark pass-through keys such as spark.hadoop.fs.s3a.access.key are caught under any parent.
   */
  private static final Pattern MORE_CREDENTIALS = Pattern.compile("(?i)passwd|credential|access[_-]?key");

  private EffectiveConfig() {}

  /** @param resolved a merged, resolved configuration from {@link ConfigLoader#resolve} */
  public static Map<String, Object> redacted(Config resolved) {
    return walk(resolved.getObject(ConfigLoader.ROOT), ConfigLoader.ROOT);
  }

  static boolean isCredential(String keyPath) {
    return ConfigLoader.CREDENTIAL_KEY.matcher(keyPath).find() || MORE_CREDENTIALS.matcher(keyPath).find();
  }

  private static Map<String, Object> walk(ConfigObject object, String path) {
    Map<String, Object> out = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      String key = path + "." + e.getKey();
      ConfigValue value = e.getValue();
      if (isCredential(key)) {
        out.put(e.getKey(), MASK);
      } else if (value instanceof ConfigObject child) {
        out.put(e.getKey(), walk(child, key));
      } else {
        out.put(e.getKey(), value.unwrapped());
      }
    }
    return out;
  }
}
