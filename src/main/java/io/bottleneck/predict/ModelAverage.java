package io.bottleneck.predict;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.array_max;
import static org.apache.spark.sql.functions.array_position;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import io.bottleneck.io.Columns;
import io.bottleneck.io.Schemas;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * Model averaging: the probabilities of several scored versions of the same images (one per
 * model, each from {@link HeadScorer}) averaged per image, the prediction re-taken from the
 * mean. The first model's rows keep all their columns; the others contribute only their
 * probabilities, matched by {@code path}. Every model must give every image a probability
 * vector over the same classes in the same order: a missing one fails the job, naming the
 * image and the model, rather than dropping the image.
 */
public final class ModelAverage {
  private ModelAverage() {}

  /**
   * @param scored one Dataset per model, each with path (string), probabilities
   *     (array&lt;double&gt;, in {@code classNames} order) and prediction (string)
   * @param modelNames one name per model, for error messages
   */
  public static Dataset<Row> average(List<Dataset<Row>> scored, List<String> modelNames, List<String> classNames) {
    Objects.requireNonNull(scored, "scored");
    if (scored.isEmpty()) {
      throw new IllegalArgumentException("model averaging needs at least one scored dataset");
    }
    if (modelNames == null || modelNames.size() != scored.size()) {
      throw new IllegalArgumentException(
          "one model name per scored dataset: " + scored.size() + " datasets, names " + modelNames);
    }
    if (classNames == null
        || classNames.isEmpty()
        || classNames.stream().anyMatch(Objects::isNull)
        || new HashSet<>(classNames).size() != classNames.size()) {
      throw new IllegalArgumentException("classNames must be distinct and non-null but was " + classNames);
    }
    for (Dataset<Row> d : scored) {
      Schemas.requireColumn(d.schema(), Columns.PATH, DataTypes.StringType);
      Schemas.requireColumn(d.schema(), Columns.PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType));
      Schemas.requireColumn(d.schema(), Columns.PREDICTION, DataTypes.StringType);
    }
    if (scored.size() == 1) {
      return scored.get(0);
    }
    Dataset<Row> rows = scored.get(0);
    List<String> memberColumns = new ArrayList<>();
    memberColumns.add(Columns.PROBABILITIES);
    for (int m = 1; m < scored.size(); m++) {
      String key = "_model_avg_path_" + m;
      String probabilities = "_model_avg_probabilities_" + m;
      Schemas.requireAbsent(rows.schema(), key);
      Schemas.requireAbsent(rows.schema(), probabilities);
      Dataset<Row> member =
          scored.get(m).select(col(Columns.PATH).as(key), col(Columns.PROBABILITIES).as(probabilities));
      // left join: an image another model did not score must fail loudly, never vanish
      rows = rows.join(member, rows.col(Columns.PATH).equalTo(member.col(key)), "left_outer").drop(key);
      memberColumns.add(probabilities);
    }
    int classes = classNames.size();
    List<Column> checks = new ArrayList<>();
    for (int m = 0; m < memberColumns.size(); m++) {
      Column p = col(memberColumns.get(m));
      String model = modelNames.get(m);
      checks.add(
          when(p.isNull(), raise_error(concat(lit("model " + model + " gave no probabilities for "), col(Columns.PATH))))
              .when(size(p).notEqual(classes),
                  raise_error(concat(lit("model " + model + " gave " ), size(p).cast("string"),
                      lit(" probabilities for " + classes + " classes " + classNames + " for "), col(Columns.PATH)))));
    }
    StringBuilder sum = new StringBuilder("x");
    for (int m = 1; m < memberColumns.size(); m++) {
      sum.append(" + `").append(memberColumns.get(m)).append("`[i]");
    }
    String mean = "transform(`" + Columns.PROBABILITIES + "`, (x, i) -> (" + sum + ") / " + memberColumns.size() + ")";
    String averaged = "_model_avg_mean";
    Schemas.requireAbsent(rows.schema(), averaged);
    // coalesce over the checks: each is null when its member is fine, or raises
    Column checked = expr(mean);
    for (Column check : checks) {
      checked = coalesce(check, checked);
    }
    rows = rows.withColumn(averaged, checked);
    Column[] names = classNames.stream().map(c -> lit(c)).toArray(Column[]::new);
    // argmax, first maximum on ties as HeadScorer does
    Column prediction = element_at(array(names), array_position(col(averaged), array_max(col(averaged))).cast("int"));
    rows = rows.withColumn(Columns.PREDICTION, prediction)
        .withColumn(Columns.PROBABILITIES, col(averaged))
        .drop(averaged);
    for (int m = 1; m < memberColumns.size(); m++) {
      rows = rows.drop(memberColumns.get(m));
    }
    return rows;
  }
}
