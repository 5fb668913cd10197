package io.bottleneck.job;

import static org.apache.spark.sql.functions.col;

import io.bottleneck.config.JobConfig;
import io.bottleneck.io.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "sql",
    mixinStandardHelpOptions = true,
    description = {
      "Runs one Spark SQL statement against the job's catalog (the tables of --table and",
      "--metrics-table) and prints the result: an aligned table, JSON lines or CSV. The last",
      "stdout line is one JSON object: {\"columns\":[...],\"rows\":N,\"truncated\":false}."
    })
final class SqlCommand extends JobCommand {
  enum Format { table, json, csv }

  @Parameters(index = "0", paramLabel = "QUERY", description = "The SQL statement, e.g. \"SELECT * FROM predictions\".")
  String query;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "Most rows printed (default ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = "--format", paramLabel = "table|json|csv", defaultValue = "table",
      description = "table (aligned, for people), json (one object per row) or csv (header first); default ${DEFAULT-VALUE}.")
  Format format;

  @Override
  void options(Map<String, Object> keys) {}

  @Override
  void validate(JobConfig cfg) {
    if (query.isBlank()) {
      throw new io.bottleneck.config.ConfigError("sql: QUERY is empty");
    }
    if (limit < 0) {
      throw new io.bottleneck.config.ConfigError("--limit must be >= 0, was " + limit);
    }
  }

  @Override
  boolean needsCatalog(JobConfig cfg) {
    return true;
  }

  @Override
  int run(SparkSession spark, JobConfig cfg) {
    Dataset<Row> result = spark.sql(query);
    String[] columns = result.columns();
    // one row past the limit tells whether the result was cut
    Dataset<Row> shown = result.limit(limit + 1);
    int count;
    int collected;
    if (format == Format.json) {
      List<String> lines = shown.toJSON().collectAsList();
      collected = lines.size();
      count = Math.min(collected, limit);
      lines.subList(0, count).forEach(System.out::println);
    } else {
      List<String[]> cells = asStrings(shown);
      collected = cells.size();
      count = Math.min(collected, limit);
      if (format == Format.csv) {
        printCsv(columns, cells.subList(0, count));
      } else {
        printTable(columns, cells.subList(0, count));
      }
    }
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("columns", List.of(columns));
    summary.put("rows", count);
    summary.put("truncated", collected > limit);
    System.out.println(Json.oneLine(summary));
    return Main.OK;
  }

  /** Each row's cells cast to strings (Spark's rendering of dates, maps, structs); null stays null. */
  private static List<String[]> asStrings(Dataset<Row> rows) {
    String[] columns = rows.columns();
    String[] positional = new String[columns.length]; // by position: a result may repeat a name
    List<Column> cells = new ArrayList<>();
    for (int i = 0; i < columns.length; i++) {
      positional[i] = "c" + i;
      cells.add(col(positional[i]).cast("string"));
    }
    List<String[]> out = new ArrayList<>();
    for (Row r : rows.toDF(positional).select(cells.toArray(new Column[0])).collectAsList()) {
      String[] values = new String[r.size()];
      for (int i = 0; i < r.size(); i++) {
        values[i] = r.isNullAt(i) ? null : r.getString(i);
      }
      out.add(values);
    }
    return out;
  }

  private static void printTable(String[] columns, List<String[]> rows) {
    int[] width = new int[columns.length];
    for (int i = 0; i < columns.length; i++) {
      width[i] = columns[i].length();
    }
    List<String[]> shown = new ArrayList<>();
    for (String[] row : rows) {
      String[] values = new String[row.length];
      for (int i = 0; i < row.length; i++) {
        values[i] = row[i] == null ? "NULL" : row[i].replace('\n', ' ').replace('\t', ' ');
        width[i] = Math.max(width[i], values[i].length());
      }
      shown.add(values);
    }
    StringBuilder rule = new StringBuilder("+");
    for (int w : width) {
      rule.append("-".repeat(w + 2)).append('+');
    }
    System.out.println(rule);
    System.out.println(tableLine(columns, width));
    System.out.println(rule);
    for (String[] values : shown) {
      System.out.println(tableLine(values, width));
    }
    System.out.println(rule);
  }

  private static String tableLine(String[] values, int[] width) {
    StringBuilder b = new StringBuilder("|");
    for (int i = 0; i < width.length; i++) {
      b.append(' ').append(values[i]).append(" ".repeat(width[i] - values[i].length())).append(" |");
    }
    return b.toString();
  }

  private static void printCsv(String[] columns, List<String[]> rows) {
    System.out.println(csvLine(columns));
    for (String[] row : rows) {
      System.out.println(csvLine(row));
    }
  }

  /** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled; null is empty. */
  private static String csvLine(String[] values) {
    List<String> fields = new ArrayList<>();
    for (String v : values) {
      if (v == null) {
        fields.add("");
      } else if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
        fields.add("\"" + v.replace("\"", "\"\"") + "\"");
      } else {
        fields.add(v);
      }
    }
    return String.join(",", fields);
  }
}
