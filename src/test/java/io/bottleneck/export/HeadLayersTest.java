package io.bottleneck.export;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import io.bottleneck.nets.onnx.OnnxGraphBuilder;
import io.bottleneck.nets.onnx.OrtRuntime;
import io.bottleneck.train.HeadConfig;
import io.bottleneck.train.HeadNetwork;
import io.bottleneck.train.HeadTrainer;
import io.bottleneck.train.ScratchCnn;
import java.util.List;
import java.util.Map;
import java.util.Random;
import onnx.Onnx;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** The DL4J layers as ONNX nodes compute what {@code output(x, false)} computes. */
class HeadLayersTest {

  private static float[][] random(int n, int features, long seed) {
    Random r = new Random(seed);
    float[][] x = new float[n][features];
    for (float[] row : x) {
      for (int j = 0; j < features; j++) {
        row[j] = (float) r.nextGaussian();
      }
    }
    return x;
  }

  private static double maxDifference(MultiLayerNetwork net, float[][] x) throws Exception {
    OnnxGraphBuilder g = new OnnxGraphBuilder("head");
    String in = g.input("x", Onnx.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, x[0].length);
    String out = HeadLayers.add(g, net, in, x[0].length);
    g.output(out, Onnx.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, net.layerSize(net.getnLayers() - 1));
    float[][] expected = net.output(Nd4j.create(x), false).toFloatMatrix();
    try (OrtSession s = OrtRuntime.session(g.build().toByteArray());
        OnnxTensor t = OnnxTensor.createTensor(OrtRuntime.environment(), x);
        OrtSession.Result r = s.run(Map.of("x", t))) {
      float[][] actual = (float[][]) r.get(0).getValue();
      double max = 0;
      for (int i = 0; i < x.length; i++) {
        for (int c = 0; c < expected[i].length; c++) {
          max = Math.max(max, Math.abs(expected[i][c] - actual[i][c]));
        }
      }
      return max;
    }
  }

  private static HeadConfig config(boolean batchNorm) {
    return HeadConfig.defaults().toBuilder().hiddenUnits(List.of(32, 8)).batchNorm(batchNorm).dropout(0.4)
        .learningRate(0.05).build();
  }

  @Test
  void denseHeadWithDropout() throws Exception {
    float[][] x = random(6, 20, 1);
    MultiLayerNetwork net = ExportTesting.trained(HeadNetwork.build(20, 4, config(false)), x, 3);
    assertThat(maxDifference(net, x)).isLessThan(1e-5);
  }

  @Test
  void headWithBatchNormalization() throws Exception {
    float[][] x = random(6, 20, 2);
    MultiLayerNetwork net = ExportTesting.trained(HeadNetwork.build(20, 4, config(true)), x, 5);
    assertThat(maxDifference(net, x)).isLessThan(1e-5);
  }

  @Test
  void cnnFromScratch() throws Exception {
    float[][] x = random(3, 3 * 20 * 20, 3);
    MultiLayerNetwork net = ExportTesting.trained(ScratchCnn.network(20, List.of(4, 6), 3, config(true), null), x, 3);
    assertThat(maxDifference(net, x)).isLessThan(1e-5);
  }
}
