package io.bottleneck.nets.dl4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The fast forward passes of the Keras* layers against DL4J's own layers and TF padding. */
class KerasLayersTest {

  private static ComputationGraph graph(Layer layer, int channels, int h, int w, long seed) {
    ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder()
        .seed(seed)
        .dataType(DataType.FLOAT)
        .weightInit(WeightInit.XAVIER)
        .biasInit(0.3)
        .activation(Activation.IDENTITY)
        .graphBuilder()
        .addInputs("in")
        .setInputTypes(InputType.convolutional(h, w, channels))
        .addLayer("l", layer, "in")
        .setOutputs("l")
        .build());
    g.init();
    return g;
  }

  private static void assertSameOutput(ComputationGraph fast, ComputationGraph reference,
      int channels, int h, int w) {
    fast.setParams(reference.params());
    INDArray x = Nd4j.rand(DataType.FLOAT, 3, channels, h, w).subi(0.5);
    INDArray expected = reference.outputSingle(false, x);
    INDArray actual = fast.outputSingle(false, x);
    assertThat(actual.shape()).containsExactly(expected.shape());
    assertThat(actual.sub(expected).amaxNumber().doubleValue()).isLessThan(1e-5);
  }

  @ParameterizedTest(name = "k{0} s{1} same={2} bias={3} {4}->{5} on {6}x{7}")
  @CsvSource({
      "3, 2, true, false, 3, 8, 8, 8",
      "3, 2, true, false, 3, 8, 9, 10",
      "1, 1, true, false, 5, 7, 6, 5",
      "3, 1, true, true, 4, 6, 7, 7",
      "3, 2, false, true, 3, 4, 11, 11",
      "3, 2, false, true, 3, 4, 12, 9",
      "1, 1, false, true, 6, 3, 5, 5"})
  void convolutionMatchesDl4j(int k, int s, boolean same, boolean bias, int cin, int cout,
      int h, int w) {
    ConvolutionLayer reference = new ConvolutionLayer.Builder(k, k).stride(s, s)
        .convolutionMode(same ? ConvolutionMode.Same : ConvolutionMode.Truncate)
        .nIn(cin).nOut(cout).hasBias(bias).build();
    assertSameOutput(graph(KerasConv2D.of(cin, cout, k, s, same, bias), cin, h, w, 1),
        graph(reference, cin, h, w, 2), cin, h, w);
  }

  @ParameterizedTest(name = "s{0} c{1} on {2}x{3}")
  @CsvSource({"1, 5, 8, 8", "2, 5, 8, 8", "2, 4, 9, 7", "1, 3, 5, 6"})
  void depthwiseMatchesDl4j(int s, int c, int h, int w) {
    DepthwiseConvolution2D reference = new DepthwiseConvolution2D.Builder(3, 3).stride(s, s)
        .convolutionMode(ConvolutionMode.Same).depthMultiplier(1)
        .nIn(c).nOut(c).hasBias(false).build();
    assertSameOutput(graph(KerasDepthwiseConv2D.same(c, 3, s), c, h, w, 1),
        graph(reference, c, h, w, 2), c, h, w);
  }

  @Test
  void batchNormalizationMatchesDl4j() {
    int c = 6;
    BatchNormalization reference = new BatchNormalization.Builder()
        .eps(1e-3).useLogStd(false).lockGammaBeta(false).nIn(c).nOut(c).build();
    ComputationGraph ref = graph(reference, c, 5, 4, 2);
    // non-trivial statistics; variances include a tiny one, as in the MobileNet file
    ref.getLayer("l").setParam("gamma", Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5));
    ref.getLayer("l").setParam("beta", Nd4j.rand(DataType.FLOAT, 1, c).subi(0.5));
    ref.getLayer("l").setParam("mean", Nd4j.rand(DataType.FLOAT, 1, c).subi(0.5));
    ref.getLayer("l").setParam("var",
        Nd4j.createFromArray(new float[][] {{0.5f, 2f, 1e-20f, 0.01f, 3f, 1f}}));
    assertSameOutput(graph(KerasBatchNormalization.of(c, 1e-3), c, 5, 4, 1), ref, c, 5, 4);
  }

  @Test
  void strideTwoSamePadsAfterLikeTensorFlow() {
    // 4x4 input, 3x3 ones kernel, stride 2: TF pads 0 rows/columns before and 1 after, so
    // output (0,0) sums input rows/columns 0..2 (symmetric padding would sum 0..1 only)
    float[] in = new float[16];
    for (int i = 0; i < 16; i++) {
      in[i] = i + 1;
    }
    float topLeft = 1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11;
    float bottomRight = 11 + 12 + 15 + 16;
    INDArray x = Nd4j.create(in, new long[] {1, 1, 4, 4}, 'c');
    for (Layer layer : new Layer[] {
        KerasConv2D.of(1, 1, 3, 2, true, false), KerasDepthwiseConv2D.same(1, 3, 2)}) {
      ComputationGraph g = graph(layer, 1, 4, 4, 1);
      g.setParams(Nd4j.ones(DataType.FLOAT, 1, 9));
      INDArray y = g.outputSingle(false, x);
      assertThat(y.shape()).containsExactly(1, 1, 2, 2);
      assertThat(y.getFloat(0, 0, 0, 0)).isCloseTo(topLeft, within(1e-4f));
      assertThat(y.getFloat(0, 0, 1, 1)).isCloseTo(bottomRight, within(1e-4f));
    }
  }
}
