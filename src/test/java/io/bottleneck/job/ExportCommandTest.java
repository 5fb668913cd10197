package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.export.ExportTesting;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.features.Featurizer;
import io.bottleneck.ingest.ImageIngest;
import io.bottleneck.io.Columns;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.dl4j.TunableTail;
import io.bottleneck.nets.onnx.OrtRuntime;
import io.bottleneck.predict.Scoring;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.TinyOnnx;
import io.bottleneck.train.FineTuning;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadNetwork;
import io.bottleneck.train.HeadTrainer;
import io.bottleneck.train.ScratchCnn;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code export}: the ONNX file's probabilities, in ONNX Runtime Java, equal what predict's
 * scoring ({@link Scoring#score}: featurize through the cache, TTA, the head) gives for the same
 * images, within 1e-4; the images are already at the base's input side, so predict's resize
 * leaves them as they are and both see the same pixels. Bundles hold tiny heads trained a few
 * steps (batch norm and dropout included, so their inference form is exercised).
 */
@ExtendWith(LocalSpark.class)
class ExportCommandTest {
  private static final List<String> CLASSES = List.of("ant", "bee", "cow");
  private static final double TOLERANCE = 1e-4;

  @TempDir Path tmp;

  private JobConfig config(String... sets) {
    List<String> all = new ArrayList<>(List.of("bottleneck.featurize.cache=" + tmp.resolve("cache").toUri()));
    all.addAll(List.of(sets));
    return ConfigLoader.load(null, all, new HashMap<>());
  }

  private static HeadConfig headConfig(long seed) {
    return HeadConfig.defaults().toBuilder().hiddenUnits(List.of(16)).batchNorm(true).dropout(0.3)
        .learningRate(0.01).seed(seed).build();
  }

  /** Features of the images for base {@code baseId} (through predict's featurize stage) and its preprocessing id. */
  private record Featured(float[][] features, String preprocessingId, int featureSize) {}

  private Featured featurize(SparkSession spark, Path images, String baseId) {
    JobConfig cfg = config();
    Dataset<Row> rows = ImageIngest.ingest(spark, images.toString(), "none", true).images();
    try (Featurizer.Result r = FeatureStage.featurize(spark, rows, baseId, cfg, FeatureStage.featureCache(spark, cfg))) {
      List<Row> collected = r.featured().collectAsList();
      float[][] x = new float[collected.size()][];
      for (int i = 0; i < x.length; i++) {
        List<Float> f = collected.get(i).getList(collected.get(i).fieldIndex(Columns.FEATURES));
        x[i] = new float[f.size()];
        for (int j = 0; j < x[i].length; j++) {
          x[i][j] = f.get(j);
        }
      }
      return new Featured(x, r.preprocessingId(), r.featureSize());
    }
  }

  private String save(String baseId, Featured f, MultiLayerNetwork head) throws Exception {
    String dir = tmp.resolve("bundle-" + baseId.replaceAll("[^a-z0-9]", "")).toUri().toString();
    ModelBundle.create(baseId, f.preprocessingId(), f.featureSize(), CLASSES, head, Map.of(), Map.of())
        .save(dir, new Configuration());
    return dir;
  }

  /** predict's probabilities per image file name. */
  private Map<String, double[]> predict(SparkSession spark, Path images, String bundleDir, String tta) throws Exception {
    JobConfig cfg = config("bottleneck.tta=" + tta);
    List<ModelBundle> bundles = Scoring.loadBundles(spark, bundleDir);
    Dataset<Row> rows = ImageIngest.ingest(spark, images.toString(), "none", cfg.exifOrientation).images();
    Map<String, double[]> out = new TreeMap<>();
    try (Scoring.Scored scored = Scoring.score(spark, rows, bundles, cfg, FeatureStage.featureCache(spark, cfg))) {
      for (Row r : scored.rows().collectAsList()) {
        String path = r.getAs(Columns.PATH);
        List<Double> p = r.getList(r.fieldIndex(Columns.PROBABILITIES));
        out.put(path.substring(path.lastIndexOf('/') + 1), p.stream().mapToDouble(Double::doubleValue).toArray());
      }
    }
    return out;
  }

  /** Exports through the command line and returns the file. */
  private Path export(String bundleDir, String tta) {
    Path file = tmp.resolve("exported-" + tta + "-" + Math.abs(bundleDir.hashCode()) + ".onnx");
    InProcessMain.Outcome o = InProcessMain.run("export", "--model", bundleDir, "--output", file.toString(), "--tta", tta);
    assertThat(o.exitCode()).as(o.stderr()).isZero();
    Map<String, Object> report = o.lastLineJson();
    assertThat(report).containsEntry("tta", tta).containsEntry("classes", CLASSES).containsEntry("input", "image");
    assertThat(file).exists();
    return file;
  }

  /** The exported model's probabilities in ONNX Runtime Java, per image file name. */
  private static Map<String, double[]> runExported(Path model, Map<String, byte[]> images, int side) throws Exception {
    List<String> names = new ArrayList<>(images.keySet());
    ByteBuffer batch = ByteBuffer.allocateDirect(names.size() * side * side * 3);
    names.forEach(n -> batch.put(images.get(n)));
    batch.rewind();
    Map<String, double[]> out = new TreeMap<>();
    try (OrtSession session = OrtRuntime.session(model);
        OnnxTensor input = OnnxTensor.createTensor(OrtRuntime.environment(), batch,
            new long[] {names.size(), side, side, 3}, OnnxJavaType.UINT8);
        OrtSession.Result result = session.run(Map.of("image", input))) {
      Map<String, String> meta = session.getMetadata().getCustomMetadata();
      assertThat(meta).containsEntry("input_size", Integer.toString(side)).containsEntry("classes", "[\"ant\",\"bee\",\"cow\"]")
          .containsKeys("model_id", "base", "bottleneck_version", "resize");
      float[][] p = (float[][]) result.get("probabilities").orElseThrow().getValue();
      for (int i = 0; i < names.size(); i++) {
        double[] row = new double[p[i].length];
        for (int c = 0; c < row.length; c++) {
          row[c] = p[i][c];
        }
        out.put(names.get(i), row);
      }
    }
    return out;
  }

  /** Exports, runs, compares with predict; returns the largest difference. */
  private double exportAndCompare(SparkSession spark, String name, Path images, Map<String, byte[]> rgb, int side,
      String bundleDir, String tta) throws Exception {
    Map<String, double[]> expected = predict(spark, images, bundleDir, tta);
    Map<String, double[]> actual = runExported(export(bundleDir, tta), rgb, side);
    double max = ExportTesting.maxDifference(expected, actual);
    System.out.printf("export %s (tta %s): largest probability difference to predict, ONNX Runtime Java: %.3g%n",
        name, tta, max);
    assertThat(max).as(name).isLessThan(TOLERANCE);
    return max;
  }

  @Test
  void builtInBaseMatchesPredict(SparkSession spark) throws Exception {
    Path images = tmp.resolve("images224");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, 224, 5);
    Featured f = featurize(spark, images, "mobilenet_v1_0.25");
    String dir = save("mobilenet_v1_0.25", f, ExportTesting.trained(HeadNetwork.build(f.featureSize(), 3, headConfig(3)), f.features(), 3));
    exportAndCompare(spark, "mobilenet_v1_0.25", images, rgb, 224, dir, "none");
    exportAndCompare(spark, "mobilenet_v1_0.25", images, rgb, 224, dir, "flip");
  }

  @Test
  void defaultBaseMatchesPredict(SparkSession spark) throws Exception {
    Path images = tmp.resolve("images224");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, 224, 3);
    Featured f = featurize(spark, images, "mobilenet_v2_1.0");
    String dir = save("mobilenet_v2_1.0", f, ExportTesting.trained(HeadNetwork.build(f.featureSize(), 3, headConfig(4)), f.features(), 3));
    exportAndCompare(spark, "mobilenet_v2_1.0", images, rgb, 224, dir, "none");
  }

  @Test
  void ensembleOfBasesWithTheirOwnPreprocessingMatchesPredict(SparkSession spark) throws Exception {
    // MobileNet ([-1, 1], RGB) and SqueezeNet at 224 (Caffe: BGR minus the means) from one input
    String spec = "mobilenet_v1_0.25+squeezenet_1.1@224";
    Path images = tmp.resolve("images224");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, 224, 4);
    Featured f = featurize(spark, images, spec);
    assertThat(f.featureSize()).isEqualTo(256 + 512);
    String dir = save(spec, f, ExportTesting.trained(HeadNetwork.build(f.featureSize(), 3, headConfig(5)), f.features(), 3));
    exportAndCompare(spark, spec, images, rgb, 224, dir, "none");
  }

  @Test
  void fineTunedTailMatchesPredict(SparkSession spark) throws Exception {
    String tailId = "mobilenet_v1_0.25@tail2";
    Path images = tmp.resolve("images224");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, 224, 4);
    Featured f = featurize(spark, images, tailId);
    TunableTail tail = TunableTail.of(tailId);
    MultiLayerNetwork head = HeadNetwork.build(tail.outputLength(), 3, headConfig(6));
    MultiLayerNetwork tuned = ExportTesting.trained(FineTuning.network(tail, head, headConfig(6)), f.features(), 2);
    String dir = save(tailId, f, tuned);
    exportAndCompare(spark, tailId, images, rgb, 224, dir, "none");
  }

  @Test
  void declaredOnnxBaseMatchesPredict(SparkSession spark) throws Exception {
    int side = 48;
    Path model = tmp.resolve("user-net.onnx");
    Files.write(model, new TinyOnnx(5, side, false).model(true));
    float[] torch = BaseDeclaration.preset("torch");
    DeclaredBases.load(new BaseDeclaration("export_user_net", BaseDeclaration.Format.ONNX, model.toUri().toString(), side,
        BaseDeclaration.Layout.NCHW, false, torch[1], new float[] {torch[2], torch[3], torch[4]},
        new float[] {torch[5], torch[6], torch[7]}, "torch", "map", BaseDeclaration.Pooling.AVG, "", ""),
        new Configuration());
    Path images = tmp.resolve("images48");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, side, 5);
    Featured f = featurize(spark, images, "export_user_net");
    String dir = save("export_user_net", f, ExportTesting.trained(HeadNetwork.build(f.featureSize(), 3, headConfig(7)), f.features(), 3));
    exportAndCompare(spark, "declared ONNX base", images, rgb, side, dir, "none");
    exportAndCompare(spark, "declared ONNX base", images, rgb, side, dir, "flip");
  }

  @Test
  void cnnFromScratchOnPixelsMatchesPredict(SparkSession spark) throws Exception {
    int side = 32;
    Path images = tmp.resolve("images32");
    Map<String, byte[]> rgb = ExportTesting.squareImages(images, side, 4);
    Featured f = featurize(spark, images, "pixels32");
    MultiLayerNetwork cnn = ScratchCnn.network(side, List.of(4, 8), 3, headConfig(8), null);
    String dir = save("pixels32", f, ExportTesting.trained(cnn, f.features(), 3));
    exportAndCompare(spark, "pixels32 (CNN from scratch)", images, rgb, side, dir, "none");
  }

  @Test
  void refusalsExitOneSayWhyAndWriteNothing() throws Exception {
    Path out = tmp.resolve("out");
    Files.createDirectories(out);

    // model averaging
    InProcessMain.Outcome averaging = InProcessMain.run("export", "--model", "runs/a/model,runs/b/model",
        "--output", out.resolve("avg.onnx").toString());
    assertThat(averaging.exitCode()).as(averaging.stderr()).isEqualTo(Main.FAILED);
    assertThat(averaging.stderr()).contains("Cannot export the average of 2 models");

    // bases of two input sides (224 and 227)
    String mixed = tmp.resolve("mixed").toUri().toString();
    ModelBundle.create("mobilenet_v1_0.25+squeezenet_1.1", "p", 768, CLASSES,
        HeadNetwork.build(768, 3, headConfig(1)), Map.of(), Map.of()).save(mixed, new Configuration());
    InProcessMain.Outcome sides = InProcessMain.run("export", "--model", mixed, "--output", out.resolve("mixed.onnx").toString());
    assertThat(sides.exitCode()).as(sides.stderr()).isEqualTo(Main.FAILED);
    assertThat(sides.stderr()).contains("its bases take images of different sides (mobilenet_v1_0.25 224, squeezenet_1.1 227)");

    // a SavedModel declared base (the bundle carries its zip; its hash is all that loading checks)
    String savedModel = tmp.resolve("savedmodel").toUri().toString();
    byte[] zip = "not really a SavedModel".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    BaseDeclaration sm = new BaseDeclaration("export_sm", BaseDeclaration.Format.SAVEDMODEL, "x", 224,
        BaseDeclaration.Layout.NHWC, false, 1f, new float[3], new float[] {1, 1, 1}, "explicit", "out",
        BaseDeclaration.Pooling.NONE, "serving_default", DeclaredBases.sha256(zip));
    DeclaredBases.register(sm, zip);
    ModelBundle.create("export_sm", "p", 8, CLASSES, HeadNetwork.build(8, 3, headConfig(1)), Map.of(), Map.of())
        .save(savedModel, new Configuration());
    InProcessMain.Outcome saved = InProcessMain.run("export", "--model", savedModel, "--output", out.resolve("sm.onnx").toString());
    assertThat(saved.exitCode()).as(saved.stderr()).isEqualTo(Main.FAILED);
    assertThat(saved.stderr()).contains("Cannot export base 'export_sm': it is a declared savedmodel network");

    // an existing file is not replaced without --overwrite
    Files.writeString(out.resolve("existing.onnx"), "keep me");
    String small = tmp.resolve("small").toUri().toString();
    ModelBundle.create("mobilenet_v1_0.25", "p", 256, CLASSES, HeadNetwork.build(256, 3, headConfig(1)),
        Map.of(), Map.of()).save(small, new Configuration());
    InProcessMain.Outcome exists = InProcessMain.run("export", "--model", small, "--output", out.resolve("existing.onnx").toString());
    assertThat(exists.exitCode()).as(exists.stderr()).isEqualTo(Main.FAILED);
    assertThat(exists.stderr()).contains("already exists; pass --overwrite");
    assertThat(out.resolve("existing.onnx")).hasContent("keep me");

    // nothing else was written, no temporary file left
    try (var files = Files.list(out)) {
      assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("existing.onnx");
    }

    // --overwrite replaces it with a whole model
    InProcessMain.Outcome replaced = InProcessMain.run("export", "--model", small, "--output",
        out.resolve("existing.onnx").toString(), "--overwrite");
    assertThat(replaced.exitCode()).as(replaced.stderr()).isZero();
    assertThat(Files.size(out.resolve("existing.onnx"))).isGreaterThan(100_000);

    // a missing --output is a usage error
    assertThat(InProcessMain.run("export", "--model", small).exitCode()).isEqualTo(Main.USAGE);
  }
}
