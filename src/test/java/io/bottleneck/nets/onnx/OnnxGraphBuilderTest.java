package io.bottleneck.nets.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.util.Map;
import onnx.Onnx;
import org.junit.jupiter.api.Test;

class OnnxGraphBuilderTest {

  private static final Onnx.TensorProto.DataType FLOAT = Onnx.TensorProto.DataType.FLOAT;

  /** relu(x @ w + b) reshaped to [N, 2, 1]; float and int64 constants, a symbolic batch. */
  private static OnnxGraphBuilder smallGraph() {
    OnnxGraphBuilder b = new OnnxGraphBuilder("small");
    String x = b.input("x", FLOAT, OnnxGraphBuilder.BATCH, 3);
    String w = b.constant("w", new float[] {1, 0, 0, 1, -1, 1}, 3, 2);
    String bias = b.constant("w", new float[] {0.5f, -10f}, 2);
    String y = b.node("MatMul", x, w).output();
    y = b.node("Add", y, bias).output();
    y = b.node("Relu", y).output();
    String shape = b.constant("shape", new long[] {-1, 2, 1}, 3);
    String out = b.node("Reshape", y, shape).name("out").output("y");
    b.output(out, FLOAT, OnnxGraphBuilder.BATCH, 2, 1);
    return b;
  }

  @Test
  void buildsAModelOnnxRuntimeRuns() throws Exception {
    byte[] model = smallGraph().build().toByteArray();
    float[] x = {1, 2, 3, 4, 5, 16};
    try (OrtSession session = OrtRuntime.session(model);
        OnnxTensor in = OnnxTensor.createTensor(OrtRuntime.environment(), FloatBuffer.wrap(x), new long[] {2, 3});
        OrtSession.Result result = session.run(Map.of("x", in))) {
      float[][][] y = (float[][][]) result.get("y").orElseThrow().getValue();
      // rows: [1-3+0.5, 2+3-10] and [4-16+0.5, 5+16-10], then ReLU
      assertThat(y).isDeepEqualTo(new float[][][] {{{0f}, {0f}}, {{0f}, {11f}}});
    }
  }

  @Test
  void writesTheDeclaredHeaderAndUniqueNames() {
    Onnx.ModelProto model = smallGraph().build();
    assertThat(model.getIrVersion()).isEqualTo(OnnxGraphBuilder.IR_VERSION);
    assertThat(model.getProducerName()).isEqualTo(OnnxGraphBuilder.PRODUCER);
    assertThat(model.getOpsetImport(0).getVersion()).isEqualTo(OnnxGraphBuilder.OPSET);
    Onnx.GraphProto g = model.getGraph();
    assertThat(g.getInitializerList()).extracting(Onnx.TensorProto::getName)
        .containsExactly("w", "w_2", "shape");
    assertThat(g.getNodeList()).extracting(Onnx.NodeProto::getName)
        .containsExactly("MatMul", "Add", "Relu", "out");
    assertThat(g.getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam())
        .isEqualTo(OnnxGraphBuilder.BATCH);
    // little-endian raw data: 0.5f is 0x3F000000
    assertThat(g.getInitializer(1).getRawData().toByteArray()).startsWith(0, 0, 0, 0x3F);
  }

  @Test
  void keepsOnlyWhatTheOutputsNeed() {
    OnnxGraphBuilder b = new OnnxGraphBuilder("pruned");
    String x = b.input("x", FLOAT, OnnxGraphBuilder.BATCH, 2);
    String unused = b.constant("unused", new float[] {1, 2}, 2);
    b.node("Add", x, unused).output();
    String y = b.node("Relu", x).output("y");
    b.output(y, FLOAT, OnnxGraphBuilder.BATCH, 2);
    Onnx.GraphProto g = b.build().getGraph();
    assertThat(g.getNodeList()).extracting(Onnx.NodeProto::getOpType).containsExactly("Relu");
    assertThat(g.getInitializerList()).isEmpty();
  }

  @Test
  void rejectsUnknownValuesTakenNamesAndMissingOutputs() {
    OnnxGraphBuilder b = new OnnxGraphBuilder("g");
    String x = b.input("x", FLOAT, 2);
    assertThatThrownBy(() -> b.node("Relu", "nope"))
        .hasMessage("Node Relu of graph g: no value named 'nope'");
    assertThatThrownBy(() -> b.input("x", FLOAT, 2))
        .hasMessage("Graph g already uses the name 'x'");
    assertThatThrownBy(() -> b.output("y", FLOAT, 2))
        .hasMessage("Graph g has no value named 'y'");
    assertThatThrownBy(() -> b.constant("c", new float[] {1, 2, 3}, 2, 2))
        .hasMessage("Constant c of graph g: 3 values for shape [2, 2]");
    assertThatThrownBy(b::build).hasMessage("Graph g has no output");
    assertThat(b.node("Relu", x).output()).isEqualTo("Relu");
  }
}
