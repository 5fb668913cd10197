package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docs/configuration.md documents exactly the keys of conf/bottleneck.conf, with their defaults.
 *
 * <p>The convention the test reads: every Markdown table whose header row is {@code | key |
 * default | meaning |}; each row's first cell is one key in backticks, written as {@code --set}
 * takes it (no {@code bottleneck.} prefix; a Spark setting by its own name, {@code spark.master}
 * for {@code bottleneck.spark."spark.master"}), and the first backticked value of its second cell
 * is the default. Two kinds of row are patterns rather than keys: {@code bases.<name>.KEY}, the
 * keys of a declared base (checked against the keys a declaration accepts), and {@code
 * spark.<setting>}, any Spark setting passed through.
 */
class ConfigurationReferenceTest {
  static final Path CONF = Path.of("conf/bottleneck.conf");
  static final Path REFERENCE = Path.of("docs/configuration.md");
  private static final String BASES_PATTERN = "bases.<name>.";
  private static final String SPARK_PATTERN = "spark.<setting>";
  private static final Pattern BACKTICKED = Pattern.compile("`([^`]*)`");

  @Test
  void everyKeyOfTheDefaultsIsDocumentedAndEveryDocumentedKeyExists() throws IOException {
    assertThat(problems(confKeys(CONF), REFERENCE)).as(REFERENCE + " against " + CONF).isEmpty();
    assertThat(documentedKeys(REFERENCE)).containsKey(SPARK_PATTERN);
  }

  @Test
  void theDeclaredBaseKeysAreExactlyTheOnesADeclarationAccepts() throws IOException {
    Set<String> documented = documentedKeys(REFERENCE).keySet().stream()
        .filter(k -> k.startsWith(BASES_PATTERN))
        .map(k -> k.substring(BASES_PATTERN.length()))
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(documented).as("the accepted keys of a declared base").isEqualTo(declaredBaseKeys());
  }

  /** Removing a row, naming a key that does not exist or changing a default fails, naming the key. */
  @Test
  void aMissingUnknownOrWrongRowIsNamed(@TempDir Path tmp) throws IOException {
    Map<String, ConfigValue> conf = confKeys(CONF);
    String reference = Files.readString(REFERENCE);
    String row = reference.lines().filter(l -> l.startsWith("| `train.l2` |")).findFirst().orElseThrow();

    Path without = tmp.resolve("without.md");
    Files.writeString(without, reference.replace(row + "\n", ""));
    assertThat(problems(conf, without))
        .containsExactly("`train.l2` is in " + CONF + " but has no row in " + without);

    Path extra = tmp.resolve("extra.md");
    Files.writeString(extra, reference.replace(row, row + "\n| `train.l3` | `0` | no such key |"));
    assertThat(problems(conf, extra))
        .containsExactly("`train.l3` has a row in " + extra + " but is no key of " + CONF);

    Path wrong = tmp.resolve("wrong.md");
    Files.writeString(wrong, reference.replace(row, "| `train.l2` | `0.01` | L2 weight decay |"));
    assertThat(problems(conf, wrong))
        .containsExactly("`train.l2`: " + wrong + " gives the default `0.01`, " + CONF + " has 0.0001");
  }

  /** What differs between the defaults' keys and the reference's rows, one message per key. */
  static List<String> problems(Map<String, ConfigValue> conf, Path reference) throws IOException {
    Map<String, String> doc = documentedKeys(reference);
    List<String> problems = new ArrayList<>();
    for (String key : conf.keySet()) {
      if (!doc.containsKey(key)) {
        problems.add("`" + key + "` is in " + CONF + " but has no row in " + reference);
      }
    }
    for (Map.Entry<String, String> row : doc.entrySet()) {
      String key = row.getKey();
      if (key.startsWith(BASES_PATTERN) || key.equals(SPARK_PATTERN)) {
        continue;
      }
      if (!conf.containsKey(key)) {
        problems.add("`" + key + "` has a row in " + reference + " but is no key of " + CONF);
      } else if (!sameValue(conf.get(key), row.getValue())) {
        problems.add("`" + key + "`: " + reference + " gives the default `" + row.getValue() + "`, " + CONF + " has "
            + shown(conf.get(key)));
      }
    }
    return problems;
  }

  /** The leaf keys of the defaults as --set takes them, with their values (nulls included). */
  static Map<String, ConfigValue> confKeys(Path file) {
    Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
    assertThat(c.hasPath(ConfigLoader.ROOT)).as(file + " has the root " + ConfigLoader.ROOT).isTrue();
    Map<String, ConfigValue> out = new LinkedHashMap<>();
    collect(c.getObject(ConfigLoader.ROOT), new ArrayList<>(), out);
    return out;
  }

  private static void collect(ConfigObject object, List<String> path, Map<String, ConfigValue> out) {
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      List<String> child = new ArrayList<>(path);
      child.add(e.getKey());
      if (child.equals(List.of(BaseDeclarations.SECTION))) {
        continue; // the declared-bases map: empty in the defaults; its keys are bases.<name>.KEY rows
      }
      if (e.getValue().valueType() == ConfigValueType.OBJECT) {
        collect((ConfigObject) e.getValue(), child, out);
      } else {
        // bottleneck.spark."spark.master" is --set spark.master=...; the others: elements joined by dots
        boolean spark = child.size() == 2 && child.get(0).equals("spark");
        out.put(spark ? child.get(1) : String.join(".", child), e.getValue());
      }
    }
  }

  /** The keys of the reference's key tables, with the first backticked value of the default cell. */
  static Map<String, String> documentedKeys(Path file) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    boolean inTable = false;
    for (String line : Files.readAllLines(file)) {
      String trimmed = line.trim();
      if (!trimmed.startsWith("|")) {
        inTable = false;
        continue;
      }
      List<String> cells = cells(trimmed);
      if (cells.size() >= 3 && cells.get(0).equals("key") && cells.get(1).equals("default")) {
        inTable = true;
        continue;
      }
      if (!inTable || cells.get(0).matches("-+")) {
        continue;
      }
      Matcher key = BACKTICKED.matcher(cells.get(0));
      if (!key.matches()) {
        fail("%s: the first cell must be one key in backticks: %s", file, line);
      }
      Matcher value = BACKTICKED.matcher(cells.get(1));
      String previous = out.put(key.group(1), value.find() ? value.group(1) : cells.get(1));
      if (previous != null) {
        fail("%s: `%s` has two rows", file, key.group(1));
      }
    }
    assertThat(out).as(file + ": no table headed | key | default | meaning |").isNotEmpty();
    return out;
  }

  private static List<String> cells(String row) {
    String inner = row.substring(1, row.endsWith("|") ? row.length() - 1 : row.length());
    List<String> cells = new ArrayList<>();
    for (String cell : inner.split("(?<!\\\\)\\|", -1)) {
      cells.add(cell.trim());
    }
    return cells;
  }

  /** A value as the reference would write it: 0.0001, not 1.0E-4. */
  private static String shown(ConfigValue value) {
    return value.valueType() == ConfigValueType.NUMBER
        ? new BigDecimal(value.unwrapped().toString()).stripTrailingZeros().toPlainString()
        : value.render();
  }

  /** A documented default against the value in the defaults: strings as written, numbers by value. */
  private static boolean sameValue(ConfigValue value, String documented) {
    switch (value.valueType()) {
      case STRING:
        String s = (String) value.unwrapped();
        return s.isEmpty() ? documented.equals("\"\"") : documented.equals(s);
      case NUMBER:
        try {
          return new BigDecimal(documented).compareTo(new BigDecimal(value.unwrapped().toString())) == 0;
        } catch (NumberFormatException e) {
          return false;
        }
      case NULL:
        return documented.equals("null");
      case LIST:
        List<String> items = new ArrayList<>();
        for (Object o : (List<?>) value.unwrapped()) {
          items.add(o instanceof String ? "\"" + o + "\"" : String.valueOf(o));
        }
        return documented.equals("[" + String.join(", ", items) + "]");
      default:
        return documented.equals(String.valueOf(value.unwrapped()));
    }
  }

  /**
   * The keys a declared base accepts, from the message that rejects an unknown one ("... a
   * declared base has the keys channels, format, ...").
   */
  private static Set<String> declaredBaseKeys() {
    String[] message = new String[1];
    assertThatThrownBy(() -> ConfigLoader.load(null, List.of("bases.probe.no-such-key=1"), Map.of()))
        .isInstanceOf(ConfigError.class)
        .satisfies(e -> message[0] = e.getMessage());
    Matcher m = Pattern.compile("a declared base has the keys (.+)$").matcher(message[0]);
    assertThat(m.find()).as(message[0]).isTrue();
    return new TreeSet<>(List.of(m.group(1).split(",\\s*")));
  }
}
