package io.bottleneck.features;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Featured rows with what test-time augmentation averages over ({@link FeatureStage#withTta}):
 * with tta = flip, the features of each image's mirror image in column features_flip (named in
 * {@code viewColumns}, featurized through the cache); otherwise the rows as they are, no view
 * columns and no {@code flip}. Closing frees the flipped featurization.
 */
public record TtaFeatures(Dataset<Row> rows, List<String> viewColumns, Featurizer.Result flip) implements AutoCloseable {
  @Override
  public void close() {
    if (flip != null) {
      flip.close();
    }
  }
}
