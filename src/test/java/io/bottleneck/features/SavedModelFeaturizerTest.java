package io.bottleneck.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Images;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.TinySavedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A declared SavedModel base through the Spark featurize stage: executors build it from the broadcast zip. */
@ExtendWith(LocalSpark.class)
class SavedModelFeaturizerTest {
  private static final int SIDE = 40;
  @TempDir Path tmp;

  @Test
  void executorsUnpackTheBroadcastSavedModelAndComputeItsFeatures(SparkSession spark) throws Exception {
    TinySavedModel net = new TinySavedModel(4, SIDE, true);
    Path model = net.export(tmp.resolve("user-sm"), true);
    float[] torch = BaseDeclaration.preset("torch");
    BaseDeclaration d = DeclaredBases.load(new BaseDeclaration("user_sm", BaseDeclaration.Format.SAVEDMODEL,
        model.toUri().toString(), SIDE, BaseDeclaration.Layout.NHWC, false, torch[1],
        new float[] {torch[2], torch[3], torch[4]}, new float[] {torch[5], torch[6], torch[7]}, "torch", "map",
        BaseDeclaration.Pooling.AVG, "serving_default", ""), new Configuration());
    Path dir = Files.createDirectories(tmp.resolve("images"));
    try (var files = Files.list(Path.of("data/sample/train"))) {
      for (Path p : files.sorted().limit(4).toList()) {
        Files.copy(p, dir.resolve(p.getFileName()));
      }
    }
    Dataset<Row> images = ImageIngest.ingest(spark, dir.toUri().toString(), new LabelSource.FilenamePrefix()).images();
    try (Featurizer.Result r = Featurizer.featurize(spark, images, "user_sm", "onnx",
        tmp.resolve("cache").toUri().toString(), 4, 0)) {
      assertThat(r.engine()).isEqualTo("tensorflow");
      assertThat(r.computed()).isEqualTo(4);
      assertThat(r.featureSize()).isEqualTo(TinySavedModel.CHANNELS);
      assertThat(r.cacheLocation()).contains("sha256-" + d.sha256().substring(0, 16));
      for (Row row : r.featured().collectAsList()) {
        Path file = Path.of(java.net.URI.create(row.<String>getAs("path")));
        float[] input = d.preprocessing().toNchw(List.of(Images.decode(Files.readAllBytes(file), file.toString())));
        List<Float> list = row.getList(row.fieldIndex("features"));
        float[] got = new float[list.size()];
        for (int i = 0; i < got.length; i++) {
          got[i] = list.get(i);
        }
        assertThat(got).as(file.toString()).containsExactly(net.reference(input, SIDE, false), offset(1e-5f));
      }
    }
  }
}
