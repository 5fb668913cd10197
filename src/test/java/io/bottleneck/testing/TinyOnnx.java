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

  /** The seeded convolution kernel, {@code [out][in][3][3]} flattened (a copy). */
  public float[] kernel() {
    return kernel.clone();
  }

  /** The seeded bias, one per output channel (a copy). */
  public float[] bias() {
    return bias.clone();
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

  /** Steps of the quantized model: input (uint8, zero point 128: [-1, 1]), map (uint8, zero point 0). */
  public static final float INPUT_STEP = 2f / 255f;
  public static final float MAP_STEP = 0.02f;

  /** The int8 kernel: symmetric, per tensor, as quantization tools write it. */
  private float weightStep() {
    float max = 0;
    for (float w : kernel) {
      max = Math.max(max, Math.abs(w));
    }
    return max / 127f;
  }

  /**
   * The network as a statically quantized (QDQ) model, NCHW, dynamic batch: the input and the
   * ReLU map pass QuantizeLinear/DequantizeLinear (uint8), the kernel is stored as int8 with a
   * DequantizeLinear, as ONNX Runtime's quantization tools write models; ONNX Runtime may run the
   * convolution in integer arithmetic. Output {@code features} = average of {@code map}.
   */
  public byte[] quantizedModel() {
    Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("tiny_qdq");
    float sw = weightStep();
    byte[] q = new byte[kernel.length];
    for (int i = 0; i < kernel.length; i++) {
      q[i] = (byte) Math.max(-127, Math.min(127, Math.rint(kernel[i] / sw)));
    }
    g.addInitializer(Onnx.TensorProto.newBuilder().setName("w_q").setDataType(Onnx.TensorProto.DataType.INT8_VALUE)
        .addDims(CHANNELS).addDims(3).addDims(3).addDims(3).setRawData(ByteString.copyFrom(q)));
    g.addInitializer(tensor("w_scale", new float[] {sw}));
    g.addInitializer(Onnx.TensorProto.newBuilder().setName("w_zero").setDataType(Onnx.TensorProto.DataType.INT8_VALUE)
        .setRawData(ByteString.copyFrom(new byte[] {0})));
    g.addInitializer(tensor("x_scale", new float[] {INPUT_STEP}));
    g.addInitializer(Onnx.TensorProto.newBuilder().setName("x_zero").setDataType(Onnx.TensorProto.DataType.UINT8_VALUE)
        .setRawData(ByteString.copyFrom(new byte[] {(byte) 128})));
    g.addInitializer(tensor("y_scale", new float[] {MAP_STEP}));
    g.addInitializer(Onnx.TensorProto.newBuilder().setName("y_zero").setDataType(Onnx.TensorProto.DataType.UINT8_VALUE)
        .setRawData(ByteString.copyFrom(new byte[] {0})));
    g.addInitializer(tensor("b", bias, CHANNELS));
    g.addNode(node("QuantizeLinear", new String[] {"input", "x_scale", "x_zero"}, "input_q"));
    g.addNode(node("DequantizeLinear", new String[] {"input_q", "x_scale", "x_zero"}, "input_dq"));
    g.addNode(node("DequantizeLinear", new String[] {"w_q", "w_scale", "w_zero"}, "w"));
    g.addNode(node("Conv", new String[] {"input_dq", "w", "b"}, "conv")
        .addAttribute(ints("kernel_shape", 3, 3)).addAttribute(ints("strides", 2, 2)));
    g.addNode(node("Relu", new String[] {"conv"}, "relu"));
    g.addNode(node("QuantizeLinear", new String[] {"relu", "y_scale", "y_zero"}, "map_q"));
    g.addNode(node("DequantizeLinear", new String[] {"map_q", "y_scale", "y_zero"}, "map"));
    g.addNode(node("GlobalAveragePool", new String[] {"map"}, "pooled"));
    g.addNode(node("Flatten", new String[] {"pooled"}, "features"));
    g.addInput(value("input", new long[] {-1, 3, size, size}, Onnx.TensorProto.DataType.FLOAT_VALUE));
    g.addOutput(value("features", new long[] {-1, CHANNELS}, Onnx.TensorProto.DataType.FLOAT_VALUE));
    return Onnx.ModelProto.newBuilder().setIrVersion(7).setProducerName("bottleneck-tests")
        .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
        .setGraph(g).build().toByteArray();
  }

  /**
   * {@link #quantizedModel()}'s features in plain Java, in float: the input and kernel rounded to
   * their steps, the ReLU map rounded to {@link #MAP_STEP}. Integer kernels may differ by a step
   * of the map per value.
   */
  public float[] quantizedReference(float[] nchw, int side) {
    float sw = weightStep();
    float[] x = new float[nchw.length];
    for (int i = 0; i < x.length; i++) {
      double v = Math.max(0, Math.min(255, Math.rint(nchw[i] / INPUT_STEP) + 128));
      x[i] = (float) ((v - 128) * INPUT_STEP);
    }
    int m = mapSide(side);
    float[] out = new float[CHANNELS];
    for (int o = 0; o < CHANNELS; o++) {
      double acc = 0;
      for (int y = 0; y < m; y++) {
        for (int xx = 0; xx < m; xx++) {
          double v = bias[o];
          for (int c = 0; c < 3; c++) {
            for (int ky = 0; ky < 3; ky++) {
              for (int kx = 0; kx < 3; kx++) {
                int k = ((o * 3 + c) * 3 + ky) * 3 + kx;
                double w = Math.max(-127, Math.min(127, Math.rint(kernel[k] / sw))) * sw;
                v += w * x[(c * side + 2 * y + ky) * side + 2 * xx + kx];
              }
            }
          }
          acc += Math.min(255, Math.rint(Math.max(0, v) / MAP_STEP)) * MAP_STEP;
        }
      }
      out[o] = (float) (acc / (m * m));
    }
    return out;
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

  /**
   * Writes {@code model} in ONNX's external data format, as {@code onnx.save(...,
   * save_as_external_data=True)} and exporters of models over 2 GB do: the raw data of each
   * initializer moves to {@code folder/location} (one file, 4 KB aligned like onnx's writer),
   * the tensor keeps its location, offset and length. Returns the model's bytes, to be written
   * into {@code folder}.
   */
  public static byte[] withExternalData(byte[] model, java.nio.file.Path folder, String location)
      throws java.io.IOException {
    Onnx.ModelProto proto = Onnx.ModelProto.parseFrom(model);
    Onnx.GraphProto.Builder g = proto.getGraph().toBuilder();
    java.io.ByteArrayOutputStream data = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < g.getInitializerCount(); i++) {
      Onnx.TensorProto t = g.getInitializer(i);
      if (t.getRawData().isEmpty()) {
        continue;
      }
      while (data.size() % 4096 != 0) {
        data.write(0);
      }
      long offset = data.size();
      t.getRawData().writeTo(data);
      g.setInitializer(i, t.toBuilder().clearRawData()
          .setDataLocation(Onnx.TensorProto.DataLocation.EXTERNAL)
          .addExternalData(entry("location", location))
          .addExternalData(entry("offset", Long.toString(offset)))
          .addExternalData(entry("length", Long.toString(t.getRawData().size()))));
    }
    java.nio.file.Path file = folder.resolve(location);
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Files.write(file, data.toByteArray());
    return proto.toBuilder().setGraph(g).build().toByteArray();
  }

  private static Onnx.StringStringEntryProto entry(String key, String value) {
    return Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
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
