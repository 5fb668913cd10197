package io.bottleneck.features;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Features for training ({@link FeatureStage#featurizeForTraining}): every image's own, plus,
 * with augmentation on, each training image's augmented views as extra rows with split = train.
 * Rows have a view column (original, or the view's name). Validation and test rows are never
 * augmented. Closing frees the cached featurizations the rows read.
 */
public record TrainingFeatures(Dataset<Row> rows, Featurizer.Result original, List<Featurizer.Result> augmented)
    implements AutoCloseable {
  /** Augmented views computed by the base (not found in the cache). */
  public long augmentedComputed() {
    return augmented.stream().mapToLong(Featurizer.Result::computed).sum();
  }

  /** Augmented views read from the feature cache. */
  public long augmentedFromCache() {
    return augmented.stream().mapToLong(Featurizer.Result::fromCache).sum();
  }

  @Override
  public void close() {
    original.close();
    augmented.forEach(Featurizer.Result::close);
  }
}
