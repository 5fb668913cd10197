package io.bottleneck.nets.onnx;

import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.SqueezeNet;
import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.bottleneck.io.Images;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import io.bottleneck.nets.dl4j.SqueezeNetBase;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import onnx.Onnx;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The ONNX graphs written from the bundled Keras weights give the TensorFlow engine's features
 * when ONNX Runtime runs them on the TensorFlow engine's input, and keep the declared contract.
 */
class BuiltInOnnxGraphsTest {

  /** Absolute: the tolerance under which the engines share a feature cache. */
  private static final double TOLERANCE = 1e-4;
  /**
   * Relative to the largest value, for large activations: SqueezeNet's squeeze outputs (its
   * tails' features) reach ~1,100, where one float32 step is 1.2e-4, so 1e-4 absolute is below
   * a rounding step there (TensorFlow and DL4J differ by 8.5e-4 on them). 1e-6 is ~8 steps.
   */
  private static final double RELATIVE_TOLERANCE = 1e-6;

  private static List<BufferedImage> images;

  @BeforeAll
  static void readImages() throws Exception {
    File[] files = new File("data/sample/train").listFiles((d, n) -> n.endsWith(".jpg"));
    assertThat(files).isNotEmpty();
    Arrays.sort(files);
    images = new ArrayList<>();
    // cats and dogs of several sizes and aspect ratios
    for (int i = 0; i < files.length && images.size() < 6; i += 13) {
      images.add(Images.decode(Files.readAllBytes(files[i].toPath()), files[i].getName()));
    }
  }

  /**
   * Default sizes, other sizes (odd ones too, where 'same' padding splits 1 + 1 on stride 2),
   * and the frozen part before the last one or two blocks.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      MobileNetV1.ID, MobileNetV1.ID + "@160", MobileNetV1.ID + "@tail1",
      MobileNetV1.ID + "@161@tail2",
      SqueezeNet.ID, SqueezeNet.ID + "@320", SqueezeNet.ID + "@tail1",
      SqueezeNet.ID + "@250@tail2",
      MobileNetV2.ID, MobileNetV2.ID + "@160",
      MobileNetV2.ID + "@tail1", MobileNetV2.ID + "@161@tail1"})
  void givesTheTensorFlowEnginesFeatures(String baseId) throws OrtException {
    // MobileNetV2's weights and TensorFlow graph come with its entry in Bases
    assumeTrue(Bases.names().contains(baseId.split("@")[0]), baseId + " is not a bundled base");
    byte[] model = BuiltInOnnxGraphs.write(baseId, Bases.weights(baseId));
    Preprocessing preprocessing = BuiltInOnnxGraphs.inputPreprocessing(baseId);
    float[][] features = run(model, preprocessing.toNhwc(images), preprocessing.size());
    float[][] reference;
    try (ImageBase tf = Bases.load(baseId, Bases.ENGINE_TENSORFLOW)) {
      assertThat(preprocessing.id()).isEqualTo(tf.preprocessingId());
      reference = tf.featurize(images);
    }
    assertThat(features).hasNumberOfRows(images.size());
    double max = 0;
    double largest = 0;
    for (int i = 0; i < images.size(); i++) {
      assertThat(features[i]).hasSameSizeAs(reference[i]);
      for (int j = 0; j < features[i].length; j++) {
        max = Math.max(max, Math.abs(features[i][j] - reference[i][j]));
        largest = Math.max(largest, Math.abs(reference[i][j]));
      }
    }
    System.out.printf("%s: ONNX Runtime vs TensorFlow, %d images, %d features: max abs diff %.3g"
        + " (largest value %.3g)%n", baseId, images.size(), reference[0].length, max, largest);
    assertThat(max).as("%s: max abs diff to the TensorFlow engine (largest value %s)", baseId, largest)
        .isLessThanOrEqualTo(Math.max(TOLERANCE, RELATIVE_TOLERANCE * largest));
  }

  @ParameterizedTest
  @ValueSource(strings = {MobileNetV1.ID + "@160", SqueezeNet.ID + "@tail1"})
  void declaresOneNhwcInputAndOneFeatureOutput(String baseId) throws Exception {
    byte[] model = BuiltInOnnxGraphs.write(baseId, Bases.weights(baseId));
    int size = BuiltInOnnxGraphs.inputPreprocessing(baseId).size();
    int featureSize;
    try (ImageBase tf = Bases.load(baseId, Bases.ENGINE_TENSORFLOW)) {
      featureSize = tf.featureSize();
    }
    // loading is ONNX Runtime's own check of the graph (types, shapes, opset)
    try (OrtSession session = OrtRuntime.session(model)) {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      Map<String, NodeInfo> outputs = session.getOutputInfo();
      assertThat(inputs).containsOnlyKeys(BuiltInOnnxGraphs.INPUT);
      assertThat(outputs).containsOnlyKeys(BuiltInOnnxGraphs.OUTPUT);
      TensorInfo in = (TensorInfo) inputs.get(BuiltInOnnxGraphs.INPUT).getInfo();
      TensorInfo out = (TensorInfo) outputs.get(BuiltInOnnxGraphs.OUTPUT).getInfo();
      assertThat(in.type).isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
      assertThat(in.getShape()).containsExactly(-1, size, size, 3);
      assertThat(in.getDimensionNames()[0]).isEqualTo(OnnxGraphBuilder.BATCH);
      assertThat(out.type).isEqualTo(ai.onnxruntime.OnnxJavaType.FLOAT);
      assertThat(out.getShape()).containsExactly(-1, featureSize);
      assertThat(out.getDimensionNames()[0]).isEqualTo(OnnxGraphBuilder.BATCH);
    }
    Onnx.ModelProto proto = Onnx.ModelProto.parseFrom(model);
    assertThat(proto.getIrVersion()).isEqualTo(7);
    assertThat(proto.getProducerName()).isEqualTo("bottleneck");
    assertThat(proto.getOpsetImportList()).singleElement()
        .satisfies(o -> assertThat(o.getDomain()).isEmpty())
        .satisfies(o -> assertThat(o.getVersion()).isEqualTo(13));
    assertThat(proto.getGraph().getNode(0).getOpType()).isEqualTo("Transpose");
  }

  @Test
  void aTailGraphHoldsOnlyTheFrozenPart() throws Exception {
    Onnx.GraphProto whole = Onnx.ModelProto.parseFrom(
        BuiltInOnnxGraphs.write(MobileNetV1.ID, Bases.weights(MobileNetV1.ID))).getGraph();
    Onnx.GraphProto tail = Onnx.ModelProto.parseFrom(BuiltInOnnxGraphs.write(
        MobileNetV1.ID + "@tail1", Bases.weights(MobileNetV1.ID))).getGraph();
    // block 13 (depthwise + pointwise, each Conv + Clip) and the pool are gone; Flatten stays
    assertThat(whole.getNodeCount() - tail.getNodeCount()).isEqualTo(5);
    assertThat(tail.getInitializerList()).noneMatch(t -> t.getName().startsWith("conv_dw_13"));
  }

  @Test
  void rejectsAnUnknownBaseNamingIt() {
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write("resnet50", Bases.weights(MobileNetV1.ID)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("No ONNX graph for base 'resnet50'; supported: mobilenet_v2_1.0, mobilenet_v1_0.25, squeezenet_1.1");
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write(MobileNetV1.ID + "@tail14", Bases.weights(MobileNetV1.ID)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Base 'mobilenet_v1_0.25@tail14' can leave out its last 1 to 13 blocks, not 14");
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write(MobileNetV1.ID + "@big", Bases.weights(MobileNetV1.ID)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Base id 'mobilenet_v1_0.25@big': expected mobilenet_v1_0.25[@<size>][@tail<k>]");
  }

  @Test
  void rejectsAnotherBasesWeightsNamingTheBase() {
    byte[] squeezeNet = Bases.weights(SqueezeNet.ID);
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write(MobileNetV1.ID, squeezeNet))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("The weights do not fit base 'mobilenet_v1_0.25': ");
    byte[] mobileNet = Bases.weights(MobileNetV1.ID);
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write(SqueezeNet.ID + "@tail1", mobileNet))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("The weights do not fit base 'squeezenet_1.1@tail1': ");
  }

  @Test
  void rejectsAnInputTooSmallForTheNetworkNamingTheBase() {
    assertThatThrownBy(() -> BuiltInOnnxGraphs.write(SqueezeNet.ID + "@20", Bases.weights(SqueezeNet.ID)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'squeezenet_1.1@20'")
        .hasMessageContaining("too small");
  }

  /** Runs the graph on an NHWC batch with ONNX Runtime. */
  private static float[][] run(byte[] model, float[] nhwc, int size) throws OrtException {
    long[] shape = {nhwc.length / (3L * size * size), size, size, 3};
    try (OrtSession session = OrtRuntime.session(model);
        OnnxTensor input = OnnxTensor.createTensor(OrtRuntime.environment(), FloatBuffer.wrap(nhwc), shape);
        OrtSession.Result result = session.run(Map.of(BuiltInOnnxGraphs.INPUT, input))) {
      return (float[][]) result.get(BuiltInOnnxGraphs.OUTPUT).orElseThrow().getValue();
    }
  }
}
