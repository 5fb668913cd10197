package io.bottleneck.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.ingest.LabelSource;
import io.bottleneck.io.Images;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.TinyOnnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A declared ONNX base through the Spark featurize stage, its cache and the model bundle. */
@ExtendWith(LocalSpark.class)
class DeclaredBaseFeaturizerTest {
  private static final int SIDE = 48;
  @TempDir Path tmp;

  private BaseDeclaration declare(String name, Path model) {
    float[] torch = BaseDeclaration.preset("torch");
    return DeclaredBases.load(new BaseDeclaration(name, BaseDeclaration.Format.ONNX, model.toUri().toString(), SIDE,
        BaseDeclaration.Layout.NCHW, false, torch[1], new float[] {torch[2], torch[3], torch[4]},
        new float[] {torch[5], torch[6], torch[7]}, "torch", "map", BaseDeclaration.Pooling.AVG, "", ""),
        new Configuration());
  }

  private Dataset<Row> images(SparkSession spark, int n) throws Exception {
    Path dir = tmp.resolve("images");
    Files.createDirectories(dir);
    try (var files = Files.list(Path.of("data/sample/train"))) {
      for (Path p : files.sorted().limit(n).toList()) {
        Files.copy(p, dir.resolve(p.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return ImageIngest.ingest(spark, dir.toUri().toString(), new LabelSource.FilenamePrefix()).images();
  }

  @Test
  void featuresComeFromTheExecutorsThenTheCacheAndANewFileIsNeverServedOldFeatures(SparkSession spark) throws Exception {
    TinyOnnx net = new TinyOnnx(5, SIDE, false);
    Path model = tmp.resolve("user-net.onnx");
    Files.write(model, net.model(true));
    BaseDeclaration d = declare("user_net", model);
    Dataset<Row> images = images(spark, 6);
    String cache = tmp.resolve("cache").toUri().toString();

    Map<String, float[]> features;
    try (Featurizer.Result r = Featurizer.featurize(spark, images, "user_net", "tensorflow", cache, 4, 0)) {
      assertThat(r.engine()).isEqualTo("onnx");
      assertThat(r.computed()).isEqualTo(6);
      assertThat(r.featureSize()).isEqualTo(TinyOnnx.CHANNELS);
      assertThat(r.preprocessingId()).isEqualTo(d.preprocessing().id());
      assertThat(r.cacheLocation()).contains("/base=user_net/prep=rgb-48-bilinear-torch-")
          .contains("sha256-" + d.sha256().substring(0, 16));
      features = byPath(r.featured());
    }
    // each vector is the plain-Java computation of the network on the preprocessed image
    for (Map.Entry<String, float[]> e : features.entrySet()) {
      Path file = Path.of(java.net.URI.create(e.getKey()));
      float[] input = d.preprocessing().toNchw(List.of(Images.decode(Files.readAllBytes(file), file.toString())));
      assertThat(e.getValue()).as(e.getKey()).containsExactly(net.reference(input, SIDE, false), offset(1e-5f));
    }
    try (Featurizer.Result again = Featurizer.featurize(spark, images, "user_net", "dl4j", cache, 4, 0)) {
      assertThat(again.computed()).isZero();
      assertThat(again.fromCache()).isEqualTo(6);
    }

    // the same name, another file: computed again, into another cache folder
    Files.write(model, new TinyOnnx(6, SIDE, false).model(true));
    declare("user_net", model);
    try (Featurizer.Result changed = Featurizer.featurize(spark, images, "user_net", "tensorflow", cache, 4, 0)) {
      assertThat(changed.computed()).isEqualTo(6);
      Map<String, float[]> now = byPath(changed.featured());
      assertThat(now.keySet()).isEqualTo(features.keySet());
      String any = now.keySet().iterator().next();
      assertThat(now.get(any)).isNotEqualTo(features.get(any));
    }
  }

  @Test
  void theModelBundleCarriesTheModelFileAndRestoresTheDeclaration() throws Exception {
    Path model = tmp.resolve("bundled.onnx");
    Files.write(model, new TinyOnnx(8, SIDE, false).model(false));
    BaseDeclaration d = declare("bundled_net", model);
    MultiLayerNetwork head = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(TinyOnnx.CHANNELS).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build());
    head.init();
    ModelBundle bundle = ModelBundle.create("bundled_net", d.preprocessing().id(), TinyOnnx.CHANNELS,
        List.of("cat", "dog"), head, Map.of(), Map.of());
    assertThat(bundle.modelId()).startsWith("bundlednet-");
    String dir = tmp.resolve("bundle").toUri().toString();
    Configuration conf = new Configuration();
    bundle.save(dir, conf);
    assertThat(tmp.resolve("bundle/bases/bundled_net/model.onnx")).hasSameBinaryContentAs(model);

    // the original moves away and the name now means another network: the bundle restores its own
    Files.delete(model);
    Path other = tmp.resolve("other.onnx");
    Files.write(other, new TinyOnnx(9, SIDE, false).model(false));
    declare("bundled_net", other);
    ModelBundle loaded = ModelBundle.load(dir, conf);
    assertThat(loaded.preprocessingId()).isEqualTo(d.preprocessing().id());
    BaseDeclaration restored = DeclaredBases.get("bundled_net");
    assertThat(restored.sha256()).isEqualTo(d.sha256());
    assertThat(restored.uri()).endsWith("bundle/bases/bundled_net/model.onnx");
    try (ImageBase base = Bases.load("bundled_net", "onnx")) {
      assertThat(base.preprocessingId()).isEqualTo(loaded.preprocessingId());
    }

    // a replaced model file is refused, naming it (the local file system's checksum file goes too,
    // as when a file is replaced on HDFS or S3)
    Files.deleteIfExists(tmp.resolve("bundle/bases/bundled_net/.model.onnx.crc"));
    Files.write(tmp.resolve("bundle/bases/bundled_net/model.onnx"), new TinyOnnx(10, SIDE, false).model(false));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ModelBundle.load(dir, conf))
        .hasMessageContaining("bases/bundled_net/model.onnx")
        .hasMessageContaining("does not have the SHA-256 its bundle recorded");
  }

  @Test
  void aModelWithExternalDataFeaturizesAndTravelsInTheBundleWithItsDataFiles(SparkSession spark) throws Exception {
    TinyOnnx net = new TinyOnnx(11, SIDE, false);
    Path whole = tmp.resolve("whole.onnx");
    Files.write(whole, net.model(false));
    Path split = tmp.resolve("split/model.onnx");
    Files.createDirectories(split.getParent());
    Files.write(split, TinyOnnx.withExternalData(net.model(false), split.getParent(), "data/weights.bin"));
    declare("ext_whole", whole);
    BaseDeclaration d = declare("ext_split", split);
    Dataset<Row> images = images(spark, 4);
    Map<String, float[]> expected;
    Map<String, float[]> actual;
    String cache = tmp.resolve("cache").toUri().toString();
    try (Featurizer.Result a = Featurizer.featurize(spark, images, "ext_whole", "onnx", cache, 3, 0);
        Featurizer.Result b = Featurizer.featurize(spark, images, "ext_split", "onnx", cache, 3, 0)) {
      expected = byPath(a.featured());
      actual = byPath(b.featured());
    }
    assertThat(actual.keySet()).isEqualTo(expected.keySet()).hasSize(4);
    actual.forEach((path, f) -> assertThat(f).as(path).containsExactly(expected.get(path), offset(1e-6f)));

    // the bundle holds the model and its data file at the same location beside it
    MultiLayerNetwork head = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(TinyOnnx.CHANNELS).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build());
    head.init();
    String dir = tmp.resolve("bundle").toUri().toString();
    Configuration conf = new Configuration();
    ModelBundle.create("ext_split", d.preprocessing().id(), TinyOnnx.CHANNELS, List.of("cat", "dog"), head, Map.of(), Map.of())
        .save(dir, conf);
    assertThat(tmp.resolve("bundle/bases/ext_split/model.onnx")).hasSameBinaryContentAs(split);
    assertThat(tmp.resolve("bundle/bases/ext_split/data/weights.bin")).hasSameBinaryContentAs(split.resolveSibling("data/weights.bin"));
    // the user's folder goes away: the bundle alone restores the network, data included
    Files.delete(split.resolveSibling("data/weights.bin"));
    Files.delete(split);
    ModelBundle.load(dir, conf);
    assertThat(DeclaredBases.get("ext_split").sha256()).isEqualTo(d.sha256());
    assertThat(DeclaredBases.get("ext_split").uri()).endsWith("bundle/bases/ext_split/model.onnx");
    try (ImageBase base = Bases.load("ext_split", "onnx")) {
      Map.Entry<String, float[]> first = expected.entrySet().iterator().next();
      Path file = Path.of(java.net.URI.create(first.getKey()));
      float[] again = base.featurizeFiles(List.of(Files.readAllBytes(file)), List.of(file.toString()))[0];
      assertThat(again).containsExactly(first.getValue(), offset(1e-6f));
    }
  }

  private static Map<String, float[]> byPath(Dataset<Row> featured) {
    return featured.collectAsList().stream().collect(Collectors.toMap(
        row -> row.<String>getAs("path"),
        row -> {
          List<Float> list = row.getList(row.fieldIndex("features"));
          float[] out = new float[list.size()];
          for (int i = 0; i < out.length; i++) {
            out[i] = list.get(i);
          }
          return out;
        }));
  }
}
