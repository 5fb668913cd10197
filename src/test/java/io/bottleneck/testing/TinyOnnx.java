package io.bottleneck.testing;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import onnx.Onnx;

/**
 * A tiny user network as an ONNX file, for tests of declared bases (no file from outside the
 * project): {@code input} float {@code [N,3,S,S]} (or NHWC, transposed first) → 3x3 convolution
 * with {@link #CHANNELS} outputs, stride 2, no padding → ReLU = value {@code map} → GlobalAveragePool →
 * Flatten = value {@code features} → Gemm to 2 classes → Softmax = graph output
 * {@code probabilities}. Weights are seeded, so {@link #reference} recomputes the features in
 * plain Java.
 */
public final class TinyOnnx {
  public static final int CHANNELS = 8;

  private final float[] kernel; // [out][in][3][3]
  private final float[] bias;
  private final boolean nhwc;
  private final int size;

  public TinyOnnx(long seed, int size, boolean nhwc) {
    Random r = new Random(seed);
    kernel = new float[CHANNELS * 3 * 9];
    for (int i = 0; i < kernel.length; i++) {
      kernel[i] = (float) (r.nextGaussian() * 0.3);
    }
    bias = new float[CHANNELS];
    for (int i = 0; i < bias.length; i++) {
      bias[i] = (float) (r.nextGaussian() * 0.1);
    }
    this.nhwc = nhwc;
    this.size = size;
  }

  /** The model; {@code dynamicSize} leaves H and W open (N always is). */
  public byte[] model(boolean dynamicSize) {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("tiny");
    String x = "input";
    if (nhwc) {
      g.addNode(node("Transpose", new String[] {"input"}, "nchw")
          .addAttribute(Onnx.AttributeProto.newBuilder().setName("perm").setType(Onnx.AttributeProto.AttributeType.INTS)
              .addInts(0).addInts(3).addInts(1).addInts(2)));
      x = "nchw";
    }
    g.addInitializer(tensor("w", kernel, CHANNELS, 3, 3, 3));
    g.addInitializer(tensor("b", bias, CHANNELS));
    g.addNode(node("Conv", new String[] {x, "w", "b"}, "conv")
        .addAttribute(ints("kernel_shape", 3, 3)).addAttribute(ints("strides", 2, 2)));
    g.addNode(node("Relu", new String[] {"conv"}, "map"));
    g.addNode(node("GlobalAveragePool", new String[] {"map"}, "pooled"));
    g.addNode(node("Flatten", new String[] {"pooled"}, "features"));
    float[] dense = new float[CHANNELS * 2];
    for (int i = 0; i < dense.length; i++) {
      dense[i] = (i % 3) * 0.25f - 0.2f;
    }
    g.addInitializer(tensor("dense", dense, CHANNELS, 2));
    g.addNode(node("Gemm", new String[] {"features", "dense"}, "logits"));
    g.addNode(node("Softmax", new String[] {"logits"}, "probabilities"));
    g.addNode(node("ArgMax", new String[] {"logits"}, "label").addAttribute(
        Onnx.AttributeProto.newBuilder().setName("axis").setType(Onnx.AttributeProto.AttributeType.INT).setI(1)));
    long s = dynamicSize ? -1 : size;
    g.addInput(value("input", nhwc ? new long[] {-1, s, s, 3} : new long[] {-1, 3, s, s}, Onnx.TensorProto.DataType.FLOAT_VALUE));
    g.addOutput(value("probabilities", new long[] {-1, 2}, Onnx.TensorProto.DataType.FLOAT_VALUE));
    g.addOutput(value("label", new long[] {-1, 1}, Onnx.TensorProto.DataType.INT64_VALUE));
    return Onnx.ModelProto.newBuilder()
        .setIrVersion(7)
        .setProducerName("bottleneck-tests")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g)
        .build()
        .toByteArray();
  }

  /** Side of {@code map} for an input side. */
  public static int mapSide(int inputSide) {
    return (inputSide - 3) / 2 + 1;
  }

  /**
   * The features in plain Java from a preprocessed NCHW input of one image ({@code 3*S*S}):
   * average (or max) over the map of ReLU(conv + bias) per channel.
   */
  public float[] reference(float[] nchw, int side, boolean max) {
    int m = mapSide(side);
    float[] out = new float[CHANNELS];
    for (int o = 0; o < CHANNELS; o++) {
      double acc = max ? Double.NEGATIVE_INFINITY : 0;
      for (int y = 0; y < m; y++) {
        for (int xx = 0; xx < m; xx++) {
          double v = bias[o];
          for (int c = 0; c < 3; c++) {
            for (int ky = 0; ky < 3; ky++) {
              for (int kx = 0; kx < 3; kx++) {
                v += kernel[((o * 3 + c) * 3 + ky) * 3 + kx] * nchw[(c * side + 2 * y + ky) * side + 2 * xx + kx];
              }
            }
          }
          v = Math.max(0, v);
          acc = max ? Math.max(acc, v) : acc + v;
        }
      }
      out[o] = (float) (max ? acc : acc / (m * m));
    }
    return out;
  }

  private static Onnx.NodeProto.Builder node(String op, String[] inputs, String output) {
    Onnx.NodeProto.Builder n = Onnx.NodeProto.newBuilder().setOpType(op).setName(output + "_op").addOutput(output);
    for (String in : inputs) {
      n.addInput(in);
    }
    return n;
  }

  private static Onnx.AttributeProto ints(String name, long... values) {
    Onnx.AttributeProto.Builder a = Onnx.AttributeProto.newBuilder().setName(name)
        .setType(Onnx.AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  private static Onnx.TensorProto tensor(String name, float[] values, long... dims) {
    ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float v : values) {
      raw.putFloat(v);
    }
    Onnx.TensorProto.Builder t = Onnx.TensorProto.newBuilder().setName(name)
        .setDataType(Onnx.TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(raw.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static Onnx.ValueInfoProto value(String name, long[] dims, int type) {
    Onnx.TensorShapeProto.Builder shape = Onnx.TensorShapeProto.newBuilder();
    for (int i = 0; i < dims.length; i++) {
      shape.addDim(dims[i] < 0
          ? Onnx.TensorShapeProto.Dimension.newBuilder().setDimParam(i == 0 ? "N" : "D" + i)
          : Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(dims[i]));
    }
    return Onnx.ValueInfoProto.newBuilder().setName(name)
        .setType(Onnx.TypeProto.newBuilder().setTensorType(
            Onnx.TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape)))
        .build();
  }
}
