package io.bottleneck.config;

/** HOCON string quoting for values and path elements. */
final class ConfigQuoting {
  private ConfigQuoting() {}

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\');
      }
      b.append(c);
    }
    return b.append('"').toString();
  }
}
