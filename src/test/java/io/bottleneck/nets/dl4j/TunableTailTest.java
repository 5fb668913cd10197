package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.io.Images;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.tf.TfMobileNetV2Base;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The frozen part (base without its last blocks) and the trainable tail with the pretrained
 * weights copied in compose to exactly the frozen base, on both engines.
 */
class TunableTailTest {
  private static final List<String> FILES = List.of("cat.0.jpg", "cat.1.jpg", "dog.0.jpg", "dog.1.jpg");
  private static List<byte[]> files;

  @BeforeAll
  static void read() throws Exception {
    files = new ArrayList<>();
    for (String f : FILES) {
      files.add(Files.readAllBytes(Path.of("data/sample/train", f)));
    }
  }

  private static float[][] featurize(ImageBase base) throws Exception {
    try (base) {
      return base.featurizeFiles(files, FILES);
    }
  }

  @Test
  void squeezeNetUpToASqueezeLayerThenTheTailEqualsTheWholeBase() throws Exception {
    float[][] whole = featurize(Bases.load(SqueezeNet.ID));
    for (int blocks = 1; blocks <= 2; blocks++) {
      String id = TunableTail.frozenPartId(SqueezeNet.ID, blocks);
      assertThat(id).isEqualTo("squeezenet_1.1@tail" + blocks);
      float[][] frozen = featurize(Bases.load(id, Bases.ENGINE_TENSORFLOW));
      float[][] frozenDl4j = featurize(Bases.load(id, Bases.ENGINE_DL4J));
      TunableTail tail = TunableTail.of(id);
      assertThat(frozen[0]).hasSize(13 * 13 * 64).hasSize(tail.inputLength());
      assertThat(tail.layerCount()).isEqualTo(2 * blocks);
      assertThat(maxDifference(frozen, frozenDl4j)).as("engines, %d blocks", blocks).isLessThan(1e-3f);
      MultiLayerNetwork net = tailNetwork(tail);
      // SqueezeNet's features reach ~100 (Caffe-scale inputs): compare relative to that scale
      assertThat(maxDifference(pooled(net, tail, frozen), whole) / maxAbs(whole)).as("random tail").isGreaterThan(0.01f);
      tail.copyPretrained(net);
      float[][] composed = pooled(net, tail, frozen);
      assertThat(maxDifference(composed, whole) / maxAbs(whole)).as("tail of %d blocks", blocks).isLessThan(1e-5f);
    }
    // the two cuts are different layers: fire8's squeeze output is not fire9's
    float[][] cut1 = featurize(Bases.load("squeezenet_1.1@tail1", Bases.ENGINE_TENSORFLOW));
    float[][] cut2 = featurize(Bases.load("squeezenet_1.1@tail2", Bases.ENGINE_TENSORFLOW));
    assertThat(maxDifference(cut1, cut2)).isGreaterThan(1f);
  }

  private static float maxAbs(float[][] a) {
    float max = 0;
    for (float[] row : a) {
      for (float v : row) {
        max = Math.max(max, Math.abs(v));
      }
    }
    return max;
  }

  private static MultiLayerNetwork tailNetwork(TunableTail tail) {
    NeuralNetConfiguration.ListBuilder b =
        new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).list();
    for (Layer layer : tail.layers()) {
      b.layer(layer);
    }
    b.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nIn(tail.outputLength()).nOut(2).activation(Activation.SOFTMAX).build());
    b.setInputType(tail.inputType());
    MultiLayerNetwork net = new MultiLayerNetwork(b.build());
    net.init();
    return net;
  }

  private static float maxDifference(float[][] a, float[][] b) {
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      assertThat(a[i]).hasSameSizeAs(b[i]);
      for (int j = 0; j < a[i].length; j++) {
        max = Math.max(max, Math.abs(a[i][j] - b[i][j]));
      }
    }
    return max;
  }

  @Test
  void frozenPartThenPretrainedTailEqualsTheWholeBase() throws Exception {
    float[][] whole = featurize(Bases.load(MobileNetV1.ID));
    for (int blocks = 1; blocks <= 2; blocks++) {
      String id = TunableTail.frozenPartId(MobileNetV1.ID, blocks);
      assertThat(id).isEqualTo("mobilenet_v1_0.25@tail" + blocks);
      float[][] frozen = featurize(Bases.load(id, Bases.ENGINE_TENSORFLOW));
      float[][] frozenDl4j = featurize(Bases.load(id, Bases.ENGINE_DL4J));
      TunableTail tail = TunableTail.of(id);
      assertThat(frozen[0]).hasSize(tail.inputLength());
      assertThat(tail.inputLength()).isEqualTo(blocks == 1 ? 7 * 7 * 256 : 14 * 14 * 128);
      // both engines give the same activations, in the same (NCHW) order
      assertThat(maxDifference(frozen, frozenDl4j)).as("engines, %d blocks", blocks).isLessThan(1e-4f);

      MultiLayerNetwork net = tailNetwork(tail);
      float[][] untrained = pooled(net, tail, frozen);
      assertThat(maxDifference(untrained, whole)).as("random tail").isGreaterThan(0.1f);
      tail.copyPretrained(net);
      float[][] composed = pooled(net, tail, frozen);
      assertThat(maxDifference(composed, whole)).as("tail of %d blocks", blocks).isLessThan(1e-4f);
    }
  }

  private static float[][] pooled(MultiLayerNetwork net, TunableTail tail, float[][] frozen) {
    INDArray input = Nd4j.create(frozen).castTo(DataType.FLOAT);
    List<INDArray> activations = net.feedForward(input, false);
    return activations.get(tail.layerCount()).toFloatMatrix();
  }

  /** At another input size the cut activations grow with the image and the tail still composes to the whole base. */
  @Test
  void anInputSizeCarriesThroughTheFrozenPartAndTheTail() throws Exception {
    for (String baseId : List.of(SqueezeNet.ID + "@320", MobileNetV1.ID + "@160")) {
      float[][] whole = featurize(Bases.load(baseId));
      String id = TunableTail.frozenPartId(baseId, 1);
      assertThat(id).isEqualTo(baseId + "@tail1");
      TunableTail tail = TunableTail.of(id);
      // SqueezeNet: 320 -> 159 -> 79 -> 39 -> 19; MobileNet: 160 / 32 = 5
      assertThat(tail.inputLength()).isEqualTo(baseId.startsWith("squeeze") ? 64 * 19 * 19 : 256 * 5 * 5);
      float[][] frozen = featurize(Bases.load(id, Bases.ENGINE_TENSORFLOW));
      float[][] frozenDl4j = featurize(Bases.load(id, Bases.ENGINE_DL4J));
      assertThat(frozen[0]).hasSize(tail.inputLength());
      assertThat(maxDifference(frozen, frozenDl4j) / maxAbs(frozenDl4j)).as("engines, %s", id).isLessThan(1e-5f);
      MultiLayerNetwork net = tailNetwork(tail);
      tail.copyPretrained(net);
      assertThat(maxDifference(pooled(net, tail, frozen), whole) / maxAbs(whole)).as(id).isLessThan(1e-5f);
    }
  }

  /**
   * MobileNetV2: the frozen part up to block_16's input (TensorFlow; ONNX Runtime gives the same
   * activations) + block_16 and Conv_1 as DL4J layers = the whole base, at 224 and at 160.
   */
  @Test
  void mobileNetV2UpToBlock16ThenTheTailEqualsTheWholeBase() throws Exception {
    for (String baseId : List.of(MobileNetV2.ID, MobileNetV2.ID + "@160")) {
      float[][] whole = featurize(Bases.load(baseId));
      String id = TunableTail.frozenPartId(baseId, 1);
      assertThat(id).isEqualTo(baseId + "@tail1");
      TunableTail tail = TunableTail.of(id);
      // 224 / 32 = 7, 160 / 32 = 5
      int side = baseId.endsWith("@160") ? 5 : 7;
      assertThat(tail.inputLength()).isEqualTo(160 * side * side);
      assertThat(tail.outputLength()).isEqualTo(1280);
      assertThat(tail.layerCount()).isEqualTo(5);
      float[][] frozen = featurize(Bases.load(id, Bases.ENGINE_TENSORFLOW));
      float[][] frozenOnnx = featurize(Bases.load(id, Bases.ENGINE_ONNX));
      assertThat(frozen[0]).hasSize(tail.inputLength());
      float engines = maxDifference(frozen, frozenOnnx);
      System.out.printf("%s: ONNX Runtime vs TensorFlow: max abs diff %.3g (largest value %.3g)%n", id, engines,
          maxAbs(frozen));
      assertThat(engines).as("engines, %s", id).isLessThan(1e-4f);

      MultiLayerNetwork net = tailNetwork(tail);
      assertThat(maxDifference(pooled(net, tail, frozen), whole)).as("random tail").isGreaterThan(0.1f);
      tail.copyPretrained(net);
      float[][] composed = pooled(net, tail, frozen);
      float diff = maxDifference(composed, whole);
      System.out.printf("%s + DL4J tail vs %s: max abs diff %.3g (largest value %.3g)%n", id, baseId, diff,
          maxAbs(whole));
      assertThat(diff).as(id).isLessThan(1e-4f);
    }
  }

  @Test
  void tailsHaveOneOrTwoBlocks() {
    assertThatThrownBy(() -> TunableTail.frozenPartId(SqueezeNet.ID, 3)).hasMessageContaining("not 3");
    assertThatThrownBy(() -> TunableTail.frozenPartId(MobileNetV1.ID, 3)).hasMessageContaining("1 to 2");
    assertThatThrownBy(() -> TunableTail.frozenPartId("pixels64", 1)).hasMessageContaining("not 'pixels64'");
    assertThatThrownBy(() -> TunableTail.frozenPartId(MobileNetV2.ID, 2)).hasMessageContaining("last 1 block only");
    assertThatThrownBy(() -> Bases.parseSpec("squeezenet_1.1@tail3")).hasMessageContaining("last 1 block");
    assertThat(Bases.parseSpec("mobilenet_v1_0.25@tail1+squeezenet_1.1"))
        .containsExactly("mobilenet_v1_0.25@tail1", "squeezenet_1.1");
  }
}
