package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.KerasArrays;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DL4J {@link ConvolutionLayer} (same parameters, shapes and output type) whose inference
 * forward pass is one BLAS GEMM per image: {@code W[out, in*kh*kw] x cols[in*kh*kw, oh*ow]},
 * where {@code cols} is the input itself for 1x1/stride-1 kernels and a Java im2col otherwise.
 *
 * <p>Why: ND4J 1.0.0-M2's generic CPU convolution path runs at ~1 GFLOP/s here (im2col,
 * permutes and per-op overhead); a plain GEMM reaches OpenBLAS speed. Supports TF/Keras
 * 'same' ({@link ConvolutionMode#Same}, odd padding pixel after) and 'valid'
 * ({@link ConvolutionMode#Truncate}) padding, NCHW, float, dilation 1. Inference only:
 * backprop throws.
 */
public class KerasConv2D extends ConvolutionLayer {

  private static final long serialVersionUID = 1L;

  /** For JSON deserialisation and cloning. */
  public KerasConv2D() {
    super();
  }

  private KerasConv2D(ConvolutionLayer.Builder builder) {
    super(builder);
  }

  /**
   * A square convolution.
   *
   * @param same TF 'same' padding if true, 'valid' otherwise
   * @param bias whether the layer has a bias
   */
  static KerasConv2D of(int in, int out, int kernel, int stride, boolean same, boolean bias) {
    return new KerasConv2D(new ConvolutionLayer.Builder(kernel, kernel)
        .stride(stride, stride)
        .convolutionMode(same ? ConvolutionMode.Same : ConvolutionMode.Truncate)
        .nIn(in)
        .nOut(out)
        .hasBias(bias));
  }

  @Override
  public Layer instantiate(NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners, int layerIndex, INDArray layerParamsView,
      boolean initializeParams, DataType networkDataType) {
    ConvolutionMode mode = getConvolutionMode();
    if ((mode != ConvolutionMode.Same && mode != ConvolutionMode.Truncate)
        || getDilation()[0] != 1 || getDilation()[1] != 1
        || getCnn2dDataFormat() != CNN2DFormat.NCHW || networkDataType != DataType.FLOAT
        || (mode == ConvolutionMode.Truncate && (getPadding()[0] != 0 || getPadding()[1] != 0))) {
      throw new IllegalStateException("KerasConv2D supports 'same' or unpadded 'valid' mode,"
          + " NCHW, float and dilation 1 only; got " + this);
    }
    Impl layer = new Impl(conf, networkDataType);
    layer.setListeners(trainingListeners);
    layer.setIndex(layerIndex);
    layer.setParamsViewArray(layerParamsView);
    Map<String, INDArray> params = initializer().init(conf, layerParamsView, initializeParams);
    layer.setParamTable(params);
    layer.setConf(conf);
    return layer;
  }

  /** The layer instance: only the forward computation differs from DL4J's. */
  static final class Impl extends org.deeplearning4j.nn.layers.convolution.ConvolutionLayer {

    Impl(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      INDArray z = preOutput(training, false, workspaceMgr).getFirst();
      return layerConf().getActivationFn().getActivation(z, training);
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop,
        LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      ConvolutionLayer cfg = layerConf();
      INDArray w = getParam(ConvolutionParamInitializer.WEIGHT_KEY);
      int cout = (int) w.size(0);
      int cin = (int) w.size(1);
      int kh = (int) w.size(2);
      int kw = (int) w.size(3);
      if (input.rank() != 4 || input.size(1) != cin) {
        throw new IllegalStateException("Layer " + cfg.getLayerName() + " expects [n, " + cin
            + ", h, w] input, got " + Arrays.toString(input.shape()));
      }
      int n = (int) input.size(0);
      int h = (int) input.size(2);
      int wd = (int) input.size(3);
      int sh = cfg.getStride()[0];
      int sw = cfg.getStride()[1];
      boolean same = cfg.getConvolutionMode() == ConvolutionMode.Same;
      int oh = same ? (h + sh - 1) / sh : (h - kh) / sh + 1;
      int ow = same ? (wd + sw - 1) / sw : (wd - kw) / sw + 1;
      // TF 'same': total padding split with the odd pixel after
      int padTop = same ? Math.max((oh - 1) * sh + kh - h, 0) / 2 : 0;
      int padLeft = same ? Math.max((ow - 1) * sw + kw - wd, 0) / 2 : 0;
      int k = cin * kh * kw;
      int p = oh * ow;

      INDArray x = input;
      if (x.isView() || x.ordering() != 'c' || x.data().length() != x.length()) {
        x = workspaceMgr.dup(ArrayType.FF_WORKING_MEM, x, 'c');
      }
      INDArray wm = w.reshape('c', cout, k);
      INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
          new long[] {n, cout, oh, ow}, 'c');
      INDArray out3 = out.reshape('c', n, cout, p);
      if (kh == 1 && kw == 1 && sh == 1 && sw == 1) {
        INDArray x3 = x.reshape('c', n, cin, (long) h * wd);
        for (int b = 0; b < n; b++) {
          Nd4j.gemm(wm, x3.slice(b), out3.slice(b), false, false, 1.0, 0.0);
        }
      } else {
        // one image at a time: the column buffer stays small (k x p) and cache-friendly
        float[] xs = KerasArrays.read(x, workspaceMgr);
        float[] cs = new float[Math.multiplyExact(k, p)];
        INDArray cols = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM,
            DataType.FLOAT, new long[] {k, p}, 'c');
        for (int b = 0; b < n; b++) {
          im2col(xs, b, cs, cin, h, wd, kh, kw, sh, sw, oh, ow, padTop, padLeft);
          KerasArrays.write(cs, cols);
          Nd4j.gemm(wm, cols, out3.slice(b), false, false, 1.0, 0.0);
        }
      }
      if (cfg.hasBias()) {
        INDArray bias = getParam(ConvolutionParamInitializer.BIAS_KEY).reshape(cout);
        Nd4j.getExecutioner().exec(new BroadcastAddOp(out, bias, out, 1));
      }
      return new Pair<>(out, null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon,
        LayerWorkspaceMgr workspaceMgr) {
      throw new UnsupportedOperationException("KerasConv2D is inference only");
    }
  }

  /**
   * For image {@code b}: {@code cols[(ci*kh + ky)*kw + kx][oy*ow + ox] = in[b][ci][oy*sh -
   * padTop + ky][ox*sw - padLeft + kx]}, zero outside the image; row order matches DL4J's
   * {@code W[out, in, kh, kw]} flattened. Every element of {@code cols} is written.
   */
  static void im2col(float[] in, int b, float[] cols, int cin, int h, int w, int kh, int kw,
      int sh, int sw, int oh, int ow, int padTop, int padLeft) {
    int p = oh * ow;
    for (int ci = 0; ci < cin; ci++) {
      int inBase = (b * cin + ci) * h * w;
      for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
          int row = ((ci * kh + ky) * kw + kx) * p;
          for (int oy = 0; oy < oh; oy++) {
            int iy = oy * sh - padTop + ky;
            int o = row + oy * ow;
            if (iy < 0 || iy >= h) {
              Arrays.fill(cols, o, o + ow, 0f);
              continue;
            }
            int src = inBase + iy * w;
            for (int ox = 0; ox < ow; ox++) {
              int ix = ox * sw - padLeft + kx;
              cols[o + ox] = ix >= 0 && ix < w ? in[src + ix] : 0f;
            }
          }
        }
      }
    }
  }
}
