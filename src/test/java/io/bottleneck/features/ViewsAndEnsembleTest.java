package io.bottleneck.features;

import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Images;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import io.bottleneck.testing.LocalSpark;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Views (flip, augmented copies) and ensembles through the featurize stage, with the cache. */
@ExtendWith(LocalSpark.class)
class ViewsAndEnsembleTest {
  private static final String ENSEMBLE = MobileNetV1.ID + "+" + SqueezeNet.ID;
  @TempDir Path tmp;

  private Path images(String... resources) throws Exception {
    Path dir = tmp.resolve("images");
    Files.createDirectories(dir);
    for (String r : resources) {
      try (var in = getClass().getResourceAsStream(r)) {
        Files.copy(in, dir.resolve(Path.of(r).getFileName().toString()));
      }
    }
    return dir;
  }

  private static Dataset<Row> ingest(SparkSession spark, Path dir) {
    return ImageIngest.ingest(spark, dir.toUri().toString(), new LabelSource.FilenamePrefix()).images();
  }

  private static Map<String, float[]> byName(Dataset<Row> featured) {
    return featured.collectAsList().stream()
        .collect(Collectors.toMap(
            row -> Path.of(row.<String>getAs("path")).getFileName().toString(),
            row -> {
              List<Float> v = row.getList(row.fieldIndex("features"));
              float[] f = new float[v.size()];
              for (int i = 0; i < f.length; i++) {
                f[i] = v.get(i);
              }
              return f;
            }));
  }

  @Test
  void anEnsembleConcatenatesEachBasesCachedFeaturesInSpecOrder(SparkSession spark) throws Exception {
    Dataset<Row> rows = ingest(spark, images("/features/cat.0.jpg", "/features/dog.0.jpg", "/ingest/cat.5.jpg"));
    String cache = tmp.resolve("cache").toUri().toString();
    Featurizer.Result mobilenet = Featurizer.featurize(spark, rows, MobileNetV1.ID, cache, 2, 0);
    Featurizer.Result ensemble =
        Featurizer.featurize(spark, rows, ENSEMBLE, Bases.DEFAULT_ENGINE, ImageView.ORIGINAL, cache, 2, 0);

    assertThat(ensemble.featureSize()).isEqualTo(256 + 512);
    assertThat(ensemble.baseId()).isEqualTo(ENSEMBLE);
    // MobileNet's part came from the cache the single-base run wrote; SqueezeNet's was computed
    assertThat(ensemble.fromCache()).isEqualTo(3);
    assertThat(ensemble.computed()).isEqualTo(3);
    assertThat(ensemble.preprocessingId())
        .isEqualTo(mobilenet.preprocessingId() + Featurizer.ENSEMBLE_SEPARATOR + "bgr-227-bilinear-caffemean-v1");
    assertThat(ensemble.featured().columns()).containsExactly(mobilenet.featured().columns());

    Map<String, float[]> single = byName(mobilenet.featured());
    Map<String, float[]> both = byName(ensemble.featured());
    assertThat(both).hasSize(3);
    ImageBase squeezenet = Bases.load(SqueezeNet.ID);
    for (var e : both.entrySet()) {
      float[] v = e.getValue();
      assertThat(v).hasSize(768);
      assertThat(java.util.Arrays.copyOfRange(v, 0, 256)).containsExactly(single.get(e.getKey()));
      float[] expected =
          squeezenet.featurize(List.of(Images.decode(Files.readAllBytes(tmp.resolve("images").resolve(e.getKey())), e.getKey())))[0];
      assertThat(java.util.Arrays.copyOfRange(v, 256, 768))
          .containsExactly(expected, org.assertj.core.data.Offset.offset(1e-4f));
    }
    Featurizer.Result again =
        Featurizer.featurize(spark, rows, ENSEMBLE, Bases.DEFAULT_ENGINE, ImageView.ORIGINAL, cache, 2, 0);
    assertThat(again.computed()).isZero();
    assertThat(again.fromCache()).isEqualTo(6);
    mobilenet.close();
    ensemble.close();
    again.close();

    assertThatThrownBy(() -> Bases.parseSpec(MobileNetV1.ID + "+" + MobileNetV1.ID))
        .hasMessageContaining("twice");
    assertThatThrownBy(() -> Bases.parseSpec(MobileNetV1.ID + "+vgg16"))
        .hasMessageContaining("Unknown base 'vgg16'");
  }

  @Test
  void theFlipViewEqualsTheFeaturesOfTheMirroredFile(SparkSession spark) throws Exception {
    // PNG, so the mirrored copy has exactly the mirrored pixels
    BufferedImage image = Images.decode(Files.readAllBytes(images("/features/cat.0.jpg").resolve("cat.0.jpg")), "cat");
    Path dir = tmp.resolve("png");
    Files.createDirectories(dir);
    ImageIO.write(image, "png", dir.resolve("cat.a.png").toFile());
    BufferedImage mirrored = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        mirrored.setRGB(image.getWidth() - 1 - x, y, image.getRGB(x, y));
      }
    }
    ImageIO.write(mirrored, "png", dir.resolve("cat.b.png").toFile());
    Dataset<Row> rows = ingest(spark, dir);
    String cache = tmp.resolve("cache").toUri().toString();
    for (String engine : Bases.engines()) {
      Featurizer.Result original =
          Featurizer.featurize(spark, rows, MobileNetV1.ID, engine, ImageView.ORIGINAL, cache + engine, 2, 0);
      Featurizer.Result flipped =
          Featurizer.featurize(spark, rows, MobileNetV1.ID, engine, ImageView.FLIP, cache + engine, 2, 0);
      assertThat(flipped.cacheLocation()).isNotEqualTo(original.cacheLocation()).endsWith("_flip_exif");
      assertThat(flipped.preprocessingId()).isEqualTo(original.preprocessingId() + "+flip");
      Map<String, float[]> o = byName(original.featured());
      Map<String, float[]> f = byName(flipped.featured());
      assertThat(f.get("cat.a.png")).containsExactly(o.get("cat.b.png"), org.assertj.core.data.Offset.offset(1e-4f));
      assertThat(f.get("cat.b.png")).containsExactly(o.get("cat.a.png"), org.assertj.core.data.Offset.offset(1e-4f));
      assertThat(maxDifference(f.get("cat.a.png"), o.get("cat.a.png"))).as(engine).isGreaterThan(0.05f);
      original.close();
      flipped.close();
    }
  }

  @Test
  void augmentedViewsAreCachedPerCopyAndIndependentOfPartitioning(SparkSession spark) throws Exception {
    Dataset<Row> rows = ingest(spark, images("/features/cat.0.jpg", "/features/dog.0.jpg", "/ingest/cat.5.jpg", "/ingest/dog.11.jpg"));
    Augmentation augmentation = new Augmentation(2, 15, 0.1, 0.1, 0.1, true, 42);
    String cache = tmp.resolve("cache").toUri().toString();
    ImageView first = ImageView.augmented(augmentation, 1);
    ImageView second = ImageView.augmented(augmentation, 2);

    Featurizer.Result a = Featurizer.featurize(spark, rows, MobileNetV1.ID, Bases.DEFAULT_ENGINE, first, cache, 1, 4);
    // the same view into another cache, one partition and a different batch size
    Featurizer.Result b =
        Featurizer.featurize(spark, rows.repartition(1), MobileNetV1.ID, Bases.DEFAULT_ENGINE, first, cache + "-other", 3, 1);
    Featurizer.Result c = Featurizer.featurize(spark, rows, MobileNetV1.ID, Bases.DEFAULT_ENGINE, second, cache, 2, 0);
    Featurizer.Result original = Featurizer.featurize(spark, rows, MobileNetV1.ID, cache, 2, 0);
    assertThat(a.computed()).isEqualTo(4);
    assertThat(c.computed()).isEqualTo(4);
    assertThat(original.computed()).isEqualTo(4);
    Map<String, float[]> fa = byName(a.featured());
    Map<String, float[]> fb = byName(b.featured());
    Map<String, float[]> fc = byName(c.featured());
    Map<String, float[]> fo = byName(original.featured());
    for (String name : fa.keySet()) {
      assertThat(fb.get(name)).as(name).containsExactly(fa.get(name), org.assertj.core.data.Offset.offset(1e-5f));
      assertThat(maxDifference(fa.get(name), fc.get(name))).as(name).isGreaterThan(0.01f);
      assertThat(maxDifference(fa.get(name), fo.get(name))).as(name).isGreaterThan(0.01f);
    }
    Featurizer.Result again = Featurizer.featurize(spark, rows, MobileNetV1.ID, Bases.DEFAULT_ENGINE, first, cache, 2, 0);
    assertThat(again.computed()).isZero();
    assertThat(again.fromCache()).isEqualTo(4);
    assertThat(byName(again.featured()).get("cat.0.jpg")).containsExactly(fa.get("cat.0.jpg"));
    for (Featurizer.Result r : List.of(a, b, c, original, again)) {
      r.close();
    }
  }

  private static float maxDifference(float[] x, float[] y) {
    float max = 0;
    for (int i = 0; i < x.length; i++) {
      max = Math.max(max, Math.abs(x[i] - y[i]));
    }
    return max;
  }
}
