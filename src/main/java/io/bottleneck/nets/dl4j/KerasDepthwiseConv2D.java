package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.KerasArrays;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A DL4J {@link DepthwiseConvolution2D} (same parameters, shapes and output type) whose
 * inference forward pass is a direct loop in Java instead of libnd4j's
 * {@code depthwise_conv2d}.
 *
 * <p>Why: in ND4J 1.0.0-M2's generic CPU build that op takes ~70% of MobileNet's forward time
 * (about 1 s for one 16x8x112x112 layer, ~50x slower than this loop). Supports what Keras
 * MobileNet v1 needs: NCHW, TF 'same' padding (extra row/column after, as TF and DL4J's
 * {@link ConvolutionMode#Same} place it), dilation 1, depth multiplier 1, no bias, float.
 * Inference only: backprop throws.
 */
public class KerasDepthwiseConv2D extends DepthwiseConvolution2D {

  private static final long serialVersionUID = 1L;

  /** For JSON deserialisation and cloning. */
  public KerasDepthwiseConv2D() {
    super();
  }

  private KerasDepthwiseConv2D(DepthwiseConvolution2D.Builder builder) {
    super(builder);
  }

  /** A {@code kernel x kernel} depthwise convolution without bias, 'same' padding. */
  static KerasDepthwiseConv2D same(int channels, int kernel, int stride) {
    return new KerasDepthwiseConv2D(new DepthwiseConvolution2D.Builder(kernel, kernel)
        .stride(stride, stride)
        .convolutionMode(ConvolutionMode.Same)
        .depthMultiplier(1)
        .nIn(channels)
        .nOut(channels)
        .hasBias(false));
  }

  @Override
  public Layer instantiate(NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners, int layerIndex, INDArray layerParamsView,
      boolean initializeParams, DataType networkDataType) {
    if (getConvolutionMode() != ConvolutionMode.Same || depthMultiplier != 1
        || getDilation()[0] != 1 || getDilation()[1] != 1
        || hasBias() || getCnn2dDataFormat() != CNN2DFormat.NCHW
        || networkDataType != DataType.FLOAT) {
      throw new IllegalStateException("KerasDepthwiseConv2D supports 'same' mode, NCHW, float,"
          + " dilation 1, depth multiplier 1 and no bias only; got " + this);
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
  static final class Impl extends DepthwiseConvolution2DLayer {

    Impl(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop,
        LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      DepthwiseConvolution2D cfg = (DepthwiseConvolution2D) conf.getLayer();
      INDArray w = getParam(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
      int kh = (int) w.size(0);
      int kw = (int) w.size(1);
      int c = (int) w.size(2);
      if (input.rank() != 4 || input.size(1) != c) {
        throw new IllegalStateException("Layer " + cfg.getLayerName() + " expects [n, " + c
            + ", h, w] input, got " + Arrays.toString(input.shape()));
      }
      int n = (int) input.size(0);
      int h = (int) input.size(2);
      int wd = (int) input.size(3);
      int sh = cfg.getStride()[0];
      int sw = cfg.getStride()[1];
      int oh = (h + sh - 1) / sh;
      int ow = (wd + sw - 1) / sw;
      // TF 'same': total padding split with the odd pixel after
      int padTop = Math.max((oh - 1) * sh + kh - h, 0) / 2;
      int padLeft = Math.max((ow - 1) * sw + kw - wd, 0) / 2;

      float[] x = KerasArrays.read(input, workspaceMgr);
      float[] k = KerasArrays.read(w, workspaceMgr);
      float[] y = new float[n * c * oh * ow];
      depthwise(x, k, y, n, c, h, wd, kh, kw, sh, sw, oh, ow, padTop, padLeft);
      INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
          new long[] {n, c, oh, ow}, 'c');
      KerasArrays.write(y, out);
      return new Pair<>(out, null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon,
        LayerWorkspaceMgr workspaceMgr) {
      throw new UnsupportedOperationException("KerasDepthwiseConv2D is inference only");
    }
  }

  /**
   * out[b,ch,oy,ox] = sum over (ky,kx) of in[b,ch,oy*sh-padTop+ky, ox*sw-padLeft+kx] *
   * k[ky,kx,ch], input outside the image being zero. Kernel layout [kh,kw,c] (multiplier 1).
   */
  static void depthwise(float[] in, float[] k, float[] out, int n, int c, int h, int w,
      int kh, int kw, int sh, int sw, int oh, int ow, int padTop, int padLeft) {
    // valid output column range per kernel column: input column stays inside [0, w)
    int[] xFrom = new int[kw];
    int[] xTo = new int[kw];
    for (int kx = 0; kx < kw; kx++) {
      int from = 0;
      while (from < ow && from * sw - padLeft + kx < 0) {
        from++;
      }
      int to = ow;
      while (to > from && (to - 1) * sw - padLeft + kx >= w) {
        to--;
      }
      xFrom[kx] = from;
      xTo[kx] = to;
    }
    float[] taps = new float[kh * kw];
    for (int b = 0; b < n; b++) {
      for (int ch = 0; ch < c; ch++) {
        int inBase = (b * c + ch) * h * w;
        int outBase = (b * c + ch) * oh * ow;
        for (int t = 0; t < kh * kw; t++) {
          taps[t] = k[t * c + ch];
        }
        for (int oy = 0; oy < oh; oy++) {
          int o = outBase + oy * ow;
          for (int ky = 0; ky < kh; ky++) {
            int iy = oy * sh - padTop + ky;
            if (iy < 0 || iy >= h) {
              continue;
            }
            int row = inBase + iy * w;
            for (int kx = 0; kx < kw; kx++) {
              float tap = taps[ky * kw + kx];
              int from = xFrom[kx];
              int to = xTo[kx];
              int ix = row + from * sw - padLeft + kx;
              if (sw == 1) {
                int shift = ix - from;
                for (int ox = from; ox < to; ox++) {
                  out[o + ox] += tap * in[shift + ox];
                }
              } else {
                for (int ox = from; ox < to; ox++, ix += sw) {
                  out[o + ox] += tap * in[ix];
                }
              }
            }
          }
        }
      }
    }
  }
}
