package io.bottleneck.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.onnx.OrtRuntime;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadNetwork;
import io.bottleneck.train.HeadTrainer;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An exported model in a runtime Bottleneck does not otherwise use: onnxruntime-node (Node.js,
 * {@code src/test/node/score.mjs}, installed by {@code submit/dev/install-node-deps.sh}) gives
 * the probabilities of ONNX Runtime Java and of Bottleneck's own scoring (the base's features,
 * the head; with TTA the mean over the image and its mirror image) within 1e-4.
 *
 * <p>Skipped with a message where node is not installed, except under CI ({@code CI=true}),
 * where a missing node or node_modules fails the test.
 */
class ExportNodeTest {
  private static final Path NODE_DIR = Path.of("src/test/node");
  private static final List<String> CLASSES = List.of("cat", "dog", "other");
  private static final int SIDE = 224;

  @TempDir Path tmp;

  @BeforeAll
  static void nodeAndPackages() {
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    String node = nodeVersion();
    if (node == null) {
      String message = "node is not installed: ExportNodeTest needs Node.js 20 (then run submit/dev/install-node-deps.sh)";
      if (ci) {
        throw new IllegalStateException(message);
      }
      Assumptions.abort(message);
    }
    if (!Files.isDirectory(NODE_DIR.resolve("node_modules/onnxruntime-node"))) {
      throw new IllegalStateException(NODE_DIR.resolve("node_modules") + " has no onnxruntime-node (node " + node
          + "): run submit/dev/install-node-deps.sh");
    }
  }

  private static String nodeVersion() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0 ? out : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  @Test
  void nodeGivesTheProbabilitiesOfJavaAndOfBottleneck() throws Exception {
    Map<String, byte[]> rgb = ExportTesting.squareImages(tmp.resolve("images"), SIDE, 4);
    List<String> names = new ArrayList<>(rgb.keySet());
    String baseId = "mobilenet_v1_0.25";
    try (ImageBase base = Bases.load(baseId, "onnx")) {
      float[][] features = base.featurize(images(rgb, names, false));
      float[][] flipped = base.featurize(images(rgb, names, true));
      HeadConfig config = HeadConfig.defaults().toBuilder().hiddenUnits(List.of(16)).batchNorm(true).dropout(0.3)
          .learningRate(0.01).build();
      MultiLayerNetwork head = ExportTesting.trained(HeadNetwork.build(features[0].length, 3, config), features, 3);
      ModelBundle bundle = ModelBundle.create(baseId, base.preprocessingId(), features[0].length, CLASSES, head,
          Map.of(), Map.of());
      for (OnnxExport.Tta tta : OnnxExport.Tta.values()) {
        Path model = tmp.resolve("model-" + tta.key() + ".onnx");
        Files.write(model, OnnxExport.export(bundle, tta, "test").model());
        byte[] input = concat(rgb, names);
        Map<String, double[]> bottleneck = rows(names, mean(head, features, tta == OnnxExport.Tta.FLIP ? flipped : null));
        Map<String, double[]> java = rows(names, ortJava(model, input, names.size()));
        Map<String, double[]> node = rows(names, ortNode(model, input, names.size()));
        double nodeVsJava = ExportTesting.maxDifference(java, node);
        double nodeVsBottleneck = ExportTesting.maxDifference(bottleneck, node);
        double javaVsBottleneck = ExportTesting.maxDifference(bottleneck, java);
        System.out.printf("export %s (tta %s): largest probability difference, onnxruntime-node vs ONNX Runtime Java %.3g,"
            + " onnxruntime-node vs Bottleneck %.3g, ONNX Runtime Java vs Bottleneck %.3g%n",
            baseId, tta.key(), nodeVsJava, nodeVsBottleneck, javaVsBottleneck);
        assertThat(nodeVsJava).isLessThan(1e-4);
        assertThat(nodeVsBottleneck).isLessThan(1e-4);
      }
    }
  }

  private static List<BufferedImage> images(Map<String, byte[]> rgb, List<String> names, boolean mirror) {
    List<BufferedImage> out = new ArrayList<>();
    for (String n : names) {
      out.add(ExportTesting.toImage(mirror ? mirror(rgb.get(n)) : rgb.get(n), SIDE));
    }
    return out;
  }

  private static byte[] mirror(byte[] rgb) {
    byte[] out = new byte[rgb.length];
    for (int y = 0; y < SIDE; y++) {
      for (int x = 0; x < SIDE; x++) {
        System.arraycopy(rgb, 3 * (y * SIDE + SIDE - 1 - x), out, 3 * (y * SIDE + x), 3);
      }
    }
    return out;
  }

  /** The head's probabilities, averaged with those of the mirror images' features when given (predict's TTA). */
  private static float[][] mean(MultiLayerNetwork head, float[][] features, float[][] flipped) {
    float[][] p = head.output(Nd4j.create(features), false).toFloatMatrix();
    if (flipped != null) {
      float[][] q = head.output(Nd4j.create(flipped), false).toFloatMatrix();
      for (int i = 0; i < p.length; i++) {
        for (int c = 0; c < p[i].length; c++) {
          p[i][c] = (float) (((double) p[i][c] + q[i][c]) / 2);
        }
      }
    }
    return p;
  }

  private static byte[] concat(Map<String, byte[]> rgb, List<String> names) {
    ByteBuffer all = ByteBuffer.allocate(names.size() * SIDE * SIDE * 3);
    names.forEach(n -> all.put(rgb.get(n)));
    return all.array();
  }

  private static float[][] ortJava(Path model, byte[] input, int n) throws Exception {
    try (OrtSession session = OrtRuntime.session(model);
        OnnxTensor t = OnnxTensor.createTensor(OrtRuntime.environment(), ByteBuffer.wrap(input),
            new long[] {n, SIDE, SIDE, 3}, OnnxJavaType.UINT8);
        OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, t))) {
      return (float[][]) r.get(OnnxExport.OUTPUT).orElseThrow().getValue();
    }
  }

  /** {@code node score.mjs}: the input as raw bytes and its shape as JSON, the probabilities back as JSON. */
  @SuppressWarnings("unchecked")
  private float[][] ortNode(Path model, byte[] input, int n) throws Exception {
    Path bin = tmp.resolve("input.bin");
    Path shape = tmp.resolve("shape.json");
    Files.write(bin, input);
    Files.writeString(shape, "[" + n + ", " + SIDE + ", " + SIDE + ", 3]");
    Path stdout = tmp.resolve("node.out");
    Process p = new ProcessBuilder("node", "score.mjs", model.toAbsolutePath().toString(),
            bin.toAbsolutePath().toString(), shape.toAbsolutePath().toString())
        .directory(NODE_DIR.toFile())
        .redirectOutput(stdout.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("node.err").toFile()))
        .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("node finished").isTrue();
    assertThat(p.exitValue()).as("node exit code; stderr: " + Files.readString(tmp.resolve("node.err"))).isZero();
    List<String> lines = Files.readAllLines(stdout).stream().filter(l -> !l.isBlank()).toList();
    Map<String, Object> out = Json.parseObject(lines.get(lines.size() - 1), "node score.mjs");
    List<List<Number>> rows = (List<List<Number>>) out.get("probabilities");
    float[][] p2 = new float[rows.size()][];
    for (int i = 0; i < p2.length; i++) {
      p2[i] = new float[rows.get(i).size()];
      for (int c = 0; c < p2[i].length; c++) {
        p2[i][c] = rows.get(i).get(c).floatValue();
      }
    }
    return p2;
  }

  private static Map<String, double[]> rows(List<String> names, float[][] p) {
    assertThat(p.length).isEqualTo(names.size());
    Map<String, double[]> out = new TreeMap<>();
    for (int i = 0; i < names.size(); i++) {
      double[] row = new double[p[i].length];
      for (int c = 0; c < row.length; c++) {
        row[c] = p[i][c];
      }
      out.put(names.get(i), row);
    }
    return out;
  }

}
