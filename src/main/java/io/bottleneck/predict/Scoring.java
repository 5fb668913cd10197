package io.bottleneck.predict;

import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.Featurizer;
import io.bottleneck.features.TtaFeatures;
import io.bottleneck.io.ModelBundle;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Scoring images with one model bundle or the average of several (evaluate, predict and stream
 * take {@code --model a,b,...}): each bundle featurizes the images through the cache with its
 * own base, applies test-time augmentation, scores with its head, and with more than one bundle
 * {@link ModelAverage} averages the probabilities per image.
 */
public final class Scoring {
  private Scoring() {}

  /** The bundles of a model setting: one URI, or several separated by commas (as Spark's paths). */
  public static List<ModelBundle> loadBundles(SparkSession spark, String models) throws IOException {
    List<ModelBundle> bundles = new ArrayList<>();
    List<String> uris = uris(models);
    for (String uri : uris) {
      bundles.add(ModelBundle.load(uri, spark));
    }
    ModelBundle first = bundles.get(0);
    for (int i = 1; i < bundles.size(); i++) {
      if (!bundles.get(i).classes().equals(first.classes())) {
        throw new IllegalArgumentException(
            "Models to average must have the same classes in the same order: " + uris.get(0) + " has "
                + first.classes() + " but " + uris.get(i) + " has " + bundles.get(i).classes());
      }
    }
    return bundles;
  }

  /** The URIs of a model setting, trimmed; empty entries are an error naming the setting. */
  public static List<String> uris(String models) {
    List<String> uris = new ArrayList<>();
    for (String part : models.split(",", -1)) {
      String uri = part.trim();
      if (uri.isEmpty()) {
        throw new IllegalArgumentException("model \"" + models + "\" has an empty entry; separate bundles by single commas");
      }
      uris.add(uri);
    }
    return uris;
  }

  /** The id of what scored: a bundle's model id, or the member ids joined by '+'. */
  public static String modelId(List<ModelBundle> bundles) {
    return String.join("+", bundles.stream().map(ModelBundle::modelId).toList());
  }

  /** The base of each bundle, joined by ','. */
  public static String baseIds(List<ModelBundle> bundles) {
    return String.join(",", bundles.stream().map(ModelBundle::baseId).toList());
  }

  /** Scored rows and what must stay cached until they have been consumed: close after the last read. */
  public record Scored(Dataset<Row> rows, List<Featurizer.Result> features, List<TtaFeatures> tta)
      implements AutoCloseable {
    @Override
    public void close() {
      tta.forEach(TtaFeatures::close);
      features.forEach(Featurizer.Result::close);
    }
  }

  /**
   * {@code images} (path, content_hash, and whatever else: the rows keep their columns) with
   * probabilities and prediction appended, from each bundle in turn and averaged over them.
   */
  public static Scored score(
      SparkSession spark, Dataset<Row> images, List<ModelBundle> bundles, JobConfig cfg, String cacheRoot) {
    List<Featurizer.Result> features = new ArrayList<>();
    List<TtaFeatures> tta = new ArrayList<>();
    List<Dataset<Row>> scored = new ArrayList<>();
    List<String> names = new ArrayList<>();
    try {
      for (ModelBundle bundle : bundles) {
        Featurizer.Result featured = FeatureStage.featurize(spark, images, bundle.baseId(), cfg, cacheRoot);
        features.add(featured);
        if (!featured.preprocessingId().equals(bundle.preprocessingId())) {
          throw new IllegalStateException(
              "Model " + bundle.modelId() + " was trained with preprocessing " + bundle.preprocessingId()
                  + " but this build of base " + bundle.baseId() + " uses " + featured.preprocessingId());
        }
        TtaFeatures views = FeatureStage.withTta(spark, featured.featured(), bundle.baseId(), cfg, cacheRoot);
        tta.add(views);
        scored.add(HeadScorer.score(views.rows(), bundle.head(), bundle.classes(), cfg.predictBatchSize, views.viewColumns()));
        names.add(bundle.modelId());
      }
      Dataset<Row> rows = ModelAverage.average(scored, names, bundles.get(0).classes());
      return new Scored(rows, features, tta);
    } catch (RuntimeException e) {
      new Scored(null, features, tta).close();
      throw e;
    }
  }
}
