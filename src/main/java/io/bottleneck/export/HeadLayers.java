package io.bottleneck.export;

import io.bottleneck.nets.onnx.OnnxGraphBuilder;
import java.util.Arrays;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationELU;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The layers of a trained DL4J {@link MultiLayerNetwork} (a head, or a fine-tuned tail and its
 * head, or a CNN trained from scratch) as ONNX nodes computing what {@code output(x, false)}
 * computes: inference mode, so dropout is the identity and batch normalization uses its running
 * statistics (as one per-channel multiply and add).
 *
 * <p>Covers the layers Bottleneck's training builds: dense and output layers, dropout, batch
 * normalization, activation layers, 2-D convolutions (plain and depthwise, NCHW), max and average
 * pooling, global pooling, and the feed-forward/CNN reshapes between them; the activations
 * identity, ReLU, ReLU6, leaky ReLU, ELU, sigmoid, tanh and softmax. Anything else is refused
 * with {@link OnnxExport.NotExportable}, naming the layer.
 */
final class HeadLayers {

  private final OnnxGraphBuilder g;
  private String x;
  /** [features] or [channels, height, width] of the current value, without the batch axis. */
  private int[] shape;

  private HeadLayers(OnnxGraphBuilder g, String x, int features) {
    this.g = g;
    this.x = x;
    this.shape = new int[] {features};
  }

  /** Adds {@code net}'s layers after {@code x} ({@code [N, features]}); returns the last value. */
  static String add(OnnxGraphBuilder g, MultiLayerNetwork net, String x, int features) {
    HeadLayers h = new HeadLayers(g, x, features);
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    for (int i = 0; i < net.getnLayers(); i++) {
      InputPreProcessor pre = conf.getInputPreProcess(i);
      if (pre != null) {
        h.preprocess(pre, i);
      }
      h.layer(conf.getConf(i).getLayer(), net.getLayer(i), i);
    }
    return h.x;
  }

  private void preprocess(InputPreProcessor pre, int i) {
    if (pre instanceof FeedForwardToCnnPreProcessor ff) {
      int c = (int) ff.getNumChannels();
      int h = (int) ff.getInputHeight();
      int w = (int) ff.getInputWidth();
      requireFlat(i, c * h * w);
      String to = g.constant("reshape_" + i, new long[] {-1, c, h, w}, 4);
      x = g.node("Reshape", x, to).name("layer" + i + "_to_cnn").output();
      shape = new int[] {c, h, w};
    } else if (pre instanceof CnnToFeedForwardPreProcessor cf) {
      if (cf.getFormat() != CNN2DFormat.NCHW) {
        throw refuse(i, "its input preprocessor flattens NHWC activations");
      }
      flatten(i);
    } else {
      throw refuse(i, "its input preprocessor " + pre.getClass().getSimpleName() + " has no ONNX counterpart here");
    }
  }

  private void layer(Layer conf, org.deeplearning4j.nn.api.Layer params, int i) {
    Class<?> type = conf.getClass();
    if (type == DenseLayer.class || type == OutputLayer.class) {
      dense((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf, params, i);
    } else if (type == DropoutLayer.class) {
      return; // the identity at inference
    } else if (type == ActivationLayer.class) {
      x = activation(((ActivationLayer) conf).getActivationFn(), i);
    } else if (type == BatchNormalization.class) {
      batchNorm((BatchNormalization) conf, params, i);
    } else if (type == ConvolutionLayer.class) {
      conv((ConvolutionLayer) conf, params, i, false);
    } else if (type == DepthwiseConvolution2D.class) {
      conv((ConvolutionLayer) conf, params, i, true);
    } else if (type == SubsamplingLayer.class) {
      pool((SubsamplingLayer) conf, i);
    } else if (type == GlobalPoolingLayer.class) {
      globalPool((GlobalPoolingLayer) conf, i);
    } else {
      throw refuse(i, "it is a " + type.getSimpleName() + ", which the export does not write");
    }
  }

  private void dense(org.deeplearning4j.nn.conf.layers.FeedForwardLayer conf, org.deeplearning4j.nn.api.Layer params,
      int i) {
    if (shape.length != 1) {
      flatten(i);
    }
    INDArray w = params.getParam("W");
    int in = (int) w.size(0);
    int out = (int) w.size(1);
    requireFlat(i, in);
    String weights = g.constant("layer" + i + "_W", values(w), in, out);
    boolean bias = conf instanceof DenseLayer d ? d.hasBias() : ((OutputLayer) conf).hasBias();
    if (bias) {
      String b = g.constant("layer" + i + "_b", values(params.getParam("b")), out);
      x = g.node("Gemm", x, weights, b).name("layer" + i + "_dense").output();
    } else {
      x = g.node("MatMul", x, weights).name("layer" + i + "_dense").output();
    }
    shape = new int[] {out};
    x = activation(conf.getActivationFn(), i);
  }

  /**
   * DL4J's inference normalization {@code (x - mean) / std * gamma + beta} folded into one
   * multiply and add per channel; {@code std} is {@code 10^log10stdev} (the default: the running
   * value already holds epsilon) or {@code sqrt(var + eps)}.
   */
  private void batchNorm(BatchNormalization conf, org.deeplearning4j.nn.api.Layer params, int i) {
    int c = shape[0];
    double[] mean = doubles(params.getParam("mean"));
    double[] std;
    if (conf.isUseLogStd()) {
      // the running standard deviation itself, epsilon included (checked against DL4J's output)
      std = doubles(params.getParam("log10stdev"));
      for (int k = 0; k < std.length; k++) {
        std[k] = Math.pow(10, std[k]);
      }
    } else {
      std = doubles(params.getParam("var"));
      for (int k = 0; k < std.length; k++) {
        std[k] = Math.sqrt(std[k] + conf.getEps());
      }
    }
    double[] gamma = new double[c];
    double[] beta = new double[c];
    if (conf.isLockGammaBeta()) {
      Arrays.fill(gamma, conf.getGamma());
      Arrays.fill(beta, conf.getBeta());
    } else {
      gamma = doubles(params.getParam("gamma"));
      beta = doubles(params.getParam("beta"));
    }
    if (mean.length != c || std.length != c || gamma.length != c || beta.length != c) {
      throw refuse(i, "its batch normalization has " + mean.length + " channels for an input of " + Arrays.toString(shape));
    }
    float[] scale = new float[c];
    float[] shift = new float[c];
    for (int k = 0; k < c; k++) {
      double s = gamma[k] / std[k];
      scale[k] = (float) s;
      shift[k] = (float) (beta[k] - mean[k] * s);
    }
    long[] dims = shape.length == 1 ? new long[] {c} : new long[] {c, 1, 1};
    x = g.node("Mul", x, g.constant("layer" + i + "_bn_scale", scale, dims)).name("layer" + i + "_bn").output();
    // no activation: DL4J's batch normalization ignores the one its configuration inherits (sigmoid)
    x = g.node("Add", x, g.constant("layer" + i + "_bn_shift", shift, dims)).name("layer" + i + "_bn_shift").output();
  }

  private void conv(ConvolutionLayer conf, org.deeplearning4j.nn.api.Layer params, int i, boolean depthwise) {
    requireMap(i);
    if (conf.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
      throw refuse(i, "its convolution is NHWC");
    }
    int[] k = conf.getKernelSize();
    int[] s = conf.getStride();
    int[] d = conf.getDilation();
    int in = shape[0];
    INDArray w = params.getParam("W");
    float[] kernel;
    int out;
    long[] dims;
    if (depthwise) {
      // DL4J [kH, kW, in, multiplier] -> ONNX [in * multiplier, 1, kH, kW], channel c * m + j
      int m = (int) w.size(3);
      float[] hwim = values(w);
      out = in * m;
      kernel = new float[hwim.length];
      for (int y = 0; y < k[0]; y++) {
        for (int xx = 0; xx < k[1]; xx++) {
          for (int c = 0; c < in; c++) {
            for (int j = 0; j < m; j++) {
              kernel[((c * m + j) * k[0] + y) * k[1] + xx] = hwim[((y * k[1] + xx) * in + c) * m + j];
            }
          }
        }
      }
      dims = new long[] {out, 1, k[0], k[1]};
    } else {
      out = (int) w.size(0);
      if (w.size(1) != in) {
        throw refuse(i, "its kernel takes " + w.size(1) + " channels, not " + in);
      }
      kernel = values(w); // [out, in, kH, kW]
      dims = new long[] {out, in, k[0], k[1]};
    }
    int[][] pads = pads(conf.getConvolutionMode(), conf.getPadding(), k, s, d, i);
    int h = side(shape[1], k[0], s[0], d[0], pads[0], i);
    int wd = side(shape[2], k[1], s[1], d[1], pads[1], i);
    String weights = g.constant("layer" + i + "_W", kernel, dims);
    OnnxGraphBuilder.Node node = conf.hasBias()
        ? g.node("Conv", x, weights, g.constant("layer" + i + "_b", values(params.getParam("b")), out))
        : g.node("Conv", x, weights);
    x = node.name("layer" + i + "_conv")
        .attr("kernel_shape", k[0], k[1])
        .attr("strides", s[0], s[1])
        .attr("dilations", d[0], d[1])
        .attr("pads", pads[0][0], pads[1][0], pads[0][1], pads[1][1])
        .attr("group", depthwise ? (long) in : 1L)
        .output();
    shape = new int[] {out, h, wd};
    x = activation(conf.getActivationFn(), i);
  }

  private void pool(SubsamplingLayer conf, int i) {
    requireMap(i);
    int[] k = conf.getKernelSize();
    int[] s = conf.getStride();
    int[] d = conf.getDilation();
    if (d[0] != 1 || d[1] != 1) {
      throw refuse(i, "its pooling is dilated");
    }
    int[][] pads = pads(conf.getConvolutionMode(), conf.getPadding(), k, s, d, i);
    boolean padded = pads[0][0] + pads[0][1] + pads[1][0] + pads[1][1] > 0;
    String op;
    if (conf.getPoolingType() == PoolingType.MAX) {
      op = "MaxPool";
    } else if (conf.getPoolingType() == PoolingType.AVG && !padded) {
      op = "AveragePool";
    } else {
      throw refuse(i, "its pooling is " + conf.getPoolingType() + (padded ? " with padding" : ""));
    }
    int h = side(shape[1], k[0], s[0], 1, pads[0], i);
    int w = side(shape[2], k[1], s[1], 1, pads[1], i);
    x = g.node(op, x).name("layer" + i + "_pool")
        .attr("kernel_shape", k[0], k[1])
        .attr("strides", s[0], s[1])
        .attr("pads", pads[0][0], pads[1][0], pads[0][1], pads[1][1])
        .output();
    shape = new int[] {shape[0], h, w};
  }

  private void globalPool(GlobalPoolingLayer conf, int i) {
    requireMap(i);
    if (!conf.isCollapseDimensions()) {
      throw refuse(i, "its global pooling keeps the spatial dimensions");
    }
    String op = switch (conf.getPoolingType()) {
      case AVG -> "GlobalAveragePool";
      case MAX -> "GlobalMaxPool";
      default -> throw refuse(i, "its global pooling is " + conf.getPoolingType());
    };
    x = g.node(op, x).name("layer" + i + "_global_pool").output();
    x = g.node("Flatten", x).name("layer" + i + "_flatten").attr("axis", 1L).output();
    shape = new int[] {shape[0]};
  }

  private String activation(IActivation fn, int i) {
    if (fn == null || fn instanceof ActivationIdentity) {
      return x;
    }
    String name = "layer" + i + "_" + fn.getClass().getSimpleName().replace("Activation", "").toLowerCase();
    if (fn instanceof ActivationReLU relu) {
      if (nonZero(relu.getMax()) || nonZero(relu.getThreshold()) || nonZero(relu.getNegativeSlope())) {
        throw refuse(i, "its ReLU has a maximum, threshold or negative slope");
      }
      return g.node("Relu", x).name(name).output();
    }
    if (fn instanceof ActivationReLU6) {
      return g.node("Clip", x, g.scalar(name + "_min", 0f), g.scalar(name + "_max", 6f)).name(name).output();
    }
    if (fn instanceof ActivationLReLU l) {
      return g.node("LeakyRelu", x).name(name).attr("alpha", (float) l.getAlpha()).output();
    }
    if (fn instanceof ActivationELU e) {
      return g.node("Elu", x).name(name).attr("alpha", (float) e.getAlpha()).output();
    }
    if (fn instanceof ActivationSigmoid) {
      return g.node("Sigmoid", x).name(name).output();
    }
    if (fn instanceof ActivationTanH) {
      return g.node("Tanh", x).name(name).output();
    }
    if (fn instanceof ActivationSoftmax) {
      if (shape.length != 1) {
        throw refuse(i, "its softmax is on a 4-D activation");
      }
      return g.node("Softmax", x).name(name).attr("axis", 1L).output();
    }
    throw refuse(i, "its activation " + fn + " has no ONNX counterpart here");
  }

  /** {@code [[top, bottom], [left, right]]}: Keras/TF 'same' (odd pixel after) or DL4J's explicit padding. */
  private int[][] pads(ConvolutionMode mode, int[] padding, int[] k, int[] s, int[] d, int i) {
    int[][] pads = new int[2][2];
    for (int a = 0; a < 2; a++) {
      if (mode == ConvolutionMode.Same) {
        int side = shape[1 + a];
        int out = (side + s[a] - 1) / s[a];
        int effective = (k[a] - 1) * d[a] + 1;
        int total = Math.max((out - 1) * s[a] + effective - side, 0);
        pads[a] = new int[] {total / 2, total - total / 2};
      } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
        pads[a] = new int[] {padding[a], padding[a]};
      } else {
        throw refuse(i, "its convolution mode is " + mode);
      }
    }
    return pads;
  }

  private int side(int in, int k, int s, int d, int[] pad, int i) {
    int effective = (k - 1) * d + 1;
    if (in + pad[0] + pad[1] < effective) {
      throw refuse(i, "its " + k + "x" + k + " window does not fit a side of " + in);
    }
    return (in + pad[0] + pad[1] - effective) / s + 1;
  }

  private void flatten(int i) {
    x = g.node("Flatten", x).name("layer" + i + "_flatten").attr("axis", 1L).output();
    shape = new int[] {Arrays.stream(shape).reduce(1, Math::multiplyExact)};
  }

  private void requireFlat(int i, int length) {
    int have = Arrays.stream(shape).reduce(1, Math::multiplyExact);
    if (have != length) {
      throw refuse(i, "it takes " + length + " values but gets " + have);
    }
  }

  private void requireMap(int i) {
    if (shape.length != 3) {
      throw refuse(i, "it needs a 4-D activation but gets " + shape[0] + " features");
    }
  }

  private static boolean nonZero(Double v) {
    return v != null && v != 0;
  }

  private static float[] values(INDArray a) {
    return a.dup('c').reshape(a.length()).toFloatVector();
  }

  private static double[] doubles(INDArray a) {
    return a.dup('c').reshape(a.length()).toDoubleVector();
  }

  private static OnnxExport.NotExportable refuse(int layer, String why) {
    return new OnnxExport.NotExportable("layer " + layer + " of the trained network cannot be exported: " + why);
  }
}
