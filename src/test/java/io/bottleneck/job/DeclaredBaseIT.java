package io.bottleneck.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.testing.LocalSpark;
import io.bottleneck.testing.SyntheticImages;
import io.bottleneck.testing.TinyOnnx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's own ONNX network as the frozen base, end to end through the shaded jar and
 * spark-submit: declared in a --conf file, checked before Spark starts, featurized by ONNX
 * Runtime on the executors, bundled with the model, and used by predict after the original
 * file has moved.
 */
@Tag("integration")
@ExtendWith(LocalSpark.class)
class DeclaredBaseIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path work;
  private static Path model;
  private static Path conf;

  @BeforeAll
  static void write() throws Exception {
    SyntheticImages.writeFolders(work.resolve("shapes/train"), 3, 10, 42);
    SyntheticImages.writeFlat(work.resolve("shapes/new"), 3, 10, 4, 42);
    model = work.resolve("models/user-net.onnx");
    Files.createDirectories(model.getParent());
    Files.write(model, new TinyOnnx(3, 64, false).model(true));
    conf = work.resolve("user.conf");
    Files.writeString(conf, """
        bottleneck {
          base = user_net
          bases.user_net {
            format = onnx
            uri = "%s"
            input-size = 64
            preprocessing = torch
            output = map
            pooling = avg
          }
        }
        """.formatted(model.toUri()));
  }

  @Test
  void aDeclaredOnnxBaseTrainsPredictsAndTravelsInTheBundle() throws Exception {
    Launcher.Result r = Launcher.run(work, "pipeline", "--conf", conf.toString(), "--input", "shapes/train",
        "--label-from", "dir", "--epochs", "3", "--output", "runs/user", "--run-id", "user",
        "--predict-input", "shapes/new", "--set", "predict.format=csv");
    System.out.printf("DeclaredBaseIT: pipeline ran %.1f s; %s%n", r.seconds(), r.lastLine());
    assertThat(r.exitCode()).as(r.toString()).isZero();
    JsonNode summary = JSON.readTree(work.resolve("runs/user/summary.json").toFile());
    assertThat(summary.at("/featurize/engine").asText()).isEqualTo("onnx");

    Path bundleDir = work.resolve("runs/user/model");
    JsonNode bundle = JSON.readTree(bundleDir.resolve("bundle.json").toFile());
    assertThat(bundle.get("base").asText()).isEqualTo("user_net");
    assertThat(bundle.get("feature_size").asInt()).isEqualTo(TinyOnnx.CHANNELS);
    String sha = DeclaredBases.sha256(Files.readAllBytes(model));
    assertThat(bundle.at("/declared_bases/user_net/sha256").asText()).isEqualTo(sha);
    assertThat(bundle.at("/declared_bases/user_net/uri").asText()).isEqualTo("bases/user_net/model.onnx");
    assertThat(bundle.get("preprocessing").asText()).contains("sha256-" + sha.substring(0, 16));
    assertThat(bundleDir.resolve("bases/user_net/model.onnx")).hasSameBinaryContentAs(model);

    // the user's file moves away: predict works from the bundle alone, with the same numbers
    Files.move(model, work.resolve("models/moved.onnx"));
    Launcher.Result p = Launcher.run(work, "predict", "--model", "runs/user/model", "--input", "shapes/new",
        "--output", "runs/user-predict", "--format", "csv", "--run-id", "again");
    assertThat(p.exitCode()).as(p.toString()).isZero();
    SparkSession spark = LocalSpark.session();
    Map<String, Double> before = probabilities(spark, work.resolve("runs/user/predictions"));
    Map<String, Double> after = probabilities(spark, work.resolve("runs/user-predict"));
    assertThat(after).hasSize(12);
    assertThat(after.keySet()).isEqualTo(before.keySet());
    after.forEach((path, prob) -> assertThat(prob).as(path).isCloseTo(before.get(path), within(1e-6)));
    Files.move(work.resolve("models/moved.onnx"), model);

    // the bundle as one ONNX file, exported by the job jar (ONNX classes relocated there): its
    // probabilities are predict's, up to predict not rounding the resized image to 8 bits
    Launcher.Result export = Launcher.run(work, "export", "--model", "runs/user/model", "--output", "user.onnx");
    assertThat(export.exitCode()).as(export.toString()).isZero();
    assertThat(JSON.readTree(export.lastLine()).get("input_size").asInt()).isEqualTo(64);
    try (ai.onnxruntime.OrtSession session = io.bottleneck.nets.onnx.OrtRuntime.session(work.resolve("user.onnx"))) {
      assertThat(session.getMetadata().getCustomMetadata().get("classes")).isEqualTo(
          JSON.writeValueAsString(SyntheticImages.classes(3)));
      io.bottleneck.nets.Preprocessing resize = io.bottleneck.nets.Preprocessing.plusMinusOne(64);
      double worst = 0;
      for (Map.Entry<String, Double> e : before.entrySet()) {
        Path file = Path.of(java.net.URI.create(e.getKey()));
        byte[] rgb = resize.resizedRgb(io.bottleneck.io.Images.decode(Files.readAllBytes(file), file.toString(), true));
        try (ai.onnxruntime.OnnxTensor input = ai.onnxruntime.OnnxTensor.createTensor(io.bottleneck.nets.onnx.OrtRuntime.environment(),
                java.nio.ByteBuffer.allocateDirect(rgb.length).put(rgb).flip(), new long[] {1, 64, 64, 3}, ai.onnxruntime.OnnxJavaType.UINT8);
            ai.onnxruntime.OrtSession.Result out = session.run(Map.of("image", input))) {
          float first = ((float[][]) out.get(0).getValue())[0][0];
          worst = Math.max(worst, Math.abs(first - e.getValue()));
        }
      }
      System.out.printf("DeclaredBaseIT: exported model vs predict, 12 images: max |p - p'| %.2e%n", worst);
      assertThat(worst).isLessThan(1e-3); // measured 8.2e-5
    }
  }

  @Test
  void aDeclarationThatDoesNotFitItsModelExitsTwoBeforeSparkStarts() throws Exception {
    Launcher.Result r = Launcher.run(work, "pipeline", "--conf", conf.toString(), "--input", "shapes/train",
        "--label-from", "dir", "--set", "bases.user_net.output=mapp", "--output", "runs/bad");
    assertThat(r.exitCode()).as(r.toString()).isEqualTo(2);
    assertThat(r.stderr()).contains("bottleneck.bases.user_net.output: the graph of " + model.toUri()
        + " has no value 'mapp'; nearest names: map,");
    assertThat(r.stderr()).doesNotContain("SparkContext");
    assertThat(work.resolve("runs/bad")).doesNotExist();

    Launcher.Result dry = Launcher.run(work, "pipeline", "--conf", conf.toString(), "--dry-run");
    assertThat(dry.exitCode()).as(dry.toString()).isZero();
    JsonNode config = JSON.readTree(dry.lastLine()).get("config");
    assertThat(config.at("/bases/user_net/output").asText()).isEqualTo("map");
    assertThat(config.get("base").asText()).isEqualTo("user_net");
  }

  /** path → probability of the first class, from a CSV prediction folder. */
  private static Map<String, Double> probabilities(SparkSession spark, Path dir) {
    List<Row> rows = spark.read().option("header", "true").option("inferSchema", "true").csv(dir.toString()).collectAsList();
    Map<String, Double> out = new HashMap<>();
    for (Row row : rows) {
      out.put(row.<String>getAs("path"), ((Number) row.get(row.fieldIndex("prob_" + SyntheticImages.classes(3).get(0)))).doubleValue());
    }
    return out;
  }
}
