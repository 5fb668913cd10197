package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.KerasArrays;
import java.util.Arrays;
import java.util.Collection;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastAddOp;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DL4J {@link BatchNormalization} (same parameters: gamma, beta, mean, var) whose inference
 * forward pass is a per-channel {@code x * a + b}, with {@code a = gamma / sqrt(var + eps)} and
 * {@code b = beta - mean * a}, the form TF's batch normalisation computes at inference.
 *
 * <p>Why: DL4J 1.0.0-M2's version runs several broadcast ops with temporaries and took ~30% of
 * MobileNet's forward time. Like DL4J's, it applies no activation function (put an activation
 * layer after it). NCHW, float, variance parameter (not log-std). Inference only.
 */
public class KerasBatchNormalization extends BatchNormalization {

  private static final long serialVersionUID = 1L;

  /** For JSON deserialisation and cloning; use {@link #of}. */
  public KerasBatchNormalization() {
    super();
  }

  /** Batch normalisation over {@code channels} with Keras' epsilon semantics. */
  static KerasBatchNormalization of(int channels, double eps) {
    KerasBatchNormalization bn = new KerasBatchNormalization();
    bn.setEps(eps);
    bn.setUseLogStd(false);
    bn.setLockGammaBeta(false);
    bn.setMinibatch(true);
    bn.setDecay(0.9);
    bn.setGamma(1.0);
    bn.setBeta(0.0);
    bn.setCnn2DFormat(CNN2DFormat.NCHW);
    bn.setNIn(channels);
    bn.setNOut(channels);
    return bn;
  }

  @Override
  public Layer instantiate(NeuralNetConfiguration conf,
      Collection<TrainingListener> trainingListeners, int layerIndex, INDArray layerParamsView,
      boolean initializeParams, DataType networkDataType) {
    if (isUseLogStd() || isLockGammaBeta() || getCnn2DFormat() != CNN2DFormat.NCHW
        || networkDataType != DataType.FLOAT) {
      throw new IllegalStateException("KerasBatchNormalization supports NCHW, float, a variance"
          + " parameter and trainable gamma/beta only; got " + this);
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

  /** The layer instance: only the inference forward pass differs from DL4J's. */
  static final class Impl extends org.deeplearning4j.nn.layers.normalization.BatchNormalization {

    Impl(NeuralNetConfiguration conf, DataType dataType) {
      super(conf, dataType);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
      assertInputSet(false);
      if (training) {
        throw new UnsupportedOperationException("KerasBatchNormalization is inference only");
      }
      float[] gamma = values(BatchNormalizationParamInitializer.GAMMA);
      float[] beta = values(BatchNormalizationParamInitializer.BETA);
      float[] mean = values(BatchNormalizationParamInitializer.GLOBAL_MEAN);
      float[] var = values(BatchNormalizationParamInitializer.GLOBAL_VAR);
      int c = gamma.length;
      if (input.rank() != 4 || input.size(1) != c) {
        throw new IllegalStateException("Layer " + layerConf().getLayerName() + " expects [n, "
            + c + ", h, w] input, got " + Arrays.toString(input.shape()));
      }
      double eps = layerConf().getEps();
      float[] scale = new float[c];
      float[] shift = new float[c];
      for (int ch = 0; ch < c; ch++) {
        scale[ch] = (float) (gamma[ch] / Math.sqrt(var[ch] + eps));
        shift[ch] = beta[ch] - mean[ch] * scale[ch];
      }
      // two in-place broadcasts over a fresh output: no temporaries, no copies to the heap
      INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
          input.shape(), 'c');
      INDArray a = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, DataType.FLOAT, c);
      INDArray b = workspaceMgr.createUninitialized(ArrayType.FF_WORKING_MEM, DataType.FLOAT, c);
      KerasArrays.write(scale, a);
      KerasArrays.write(shift, b);
      Nd4j.getExecutioner().exec(new BroadcastMulOp(input, a, out, 1));
      Nd4j.getExecutioner().exec(new BroadcastAddOp(out, b, out, 1));
      return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon,
        LayerWorkspaceMgr workspaceMgr) {
      throw new UnsupportedOperationException("KerasBatchNormalization is inference only");
    }

    private float[] values(String key) {
      return getParam(key).toFloatVector();
    }
  }
}
