package io.bottleneck.io;

import java.util.Arrays;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Input-schema checks that every stage runs before any work, in the manner of Spark ML's
 * {@code transformSchema}: the message names the column, the expected and the actual type.
 */
public final class Schemas {
  private Schemas() {}

  /** Fails unless {@code schema} has {@code column} of exactly {@code expected} type. */
  public static void requireColumn(StructType schema, String column, DataType expected) {
    StructField field = find(schema, column);
    if (field == null) {
      throw new IllegalArgumentException(
          "Column " + column + " of type " + expected.simpleString()
              + " is required but missing; columns present: "
              + Arrays.toString(schema.fieldNames()));
    }
    if (!sameType(field.dataType(), expected)) {
      throw new IllegalArgumentException(
          "Column " + column + " must be of type " + expected.simpleString()
              + " but was actually " + field.dataType().simpleString() + ".");
    }
  }

  /** Fails if {@code column} already exists: a stage never silently replaces a column. */
  public static void requireAbsent(StructType schema, String column) {
    if (find(schema, column) != null) {
      throw new IllegalArgumentException("Output column " + column + " already exists.");
    }
  }

  public static boolean hasColumn(StructType schema, String column) {
    return find(schema, column) != null;
  }

  private static StructField find(StructType schema, String column) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(column)) {
        return f;
      }
    }
    return null;
  }

  /** Type equality ignoring nullability, which differs between Parquet reads and plans. */
  private static boolean sameType(DataType actual, DataType expected) {
    return actual.simpleString().equals(expected.simpleString());
  }
}
