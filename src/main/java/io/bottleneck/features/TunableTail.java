package io.bottleneck.features;

import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The last blocks of a pretrained base as trainable DL4J layers, for fine-tuning (the Keras
 * "unfreeze the last block" recipe): their input is the activation the frozen part computes
 * (the features of base id {@code <base>@tail<k>}, cached like any features), their output the
 * base's usual pooled features, so a head can follow them in one {@link MultiLayerNetwork}.
 *
 * <p>For MobileNet v1 a block is a 3x3 depthwise convolution and a 1x1 convolution, each with
 * BatchNormalization and ReLU6. Each BatchNormalization is folded into its convolution's
 * weights and bias ({@link FoldedBatchNorm}), as Keras' fine-tuning guide keeps BN layers in
 * inference mode: the statistics stay those of ImageNet and the folded affine map trains with
 * the kernel. For SqueezeNet 1.1 one block is fire9's two expand convolutions (1x1 and 3x3, 256
 * channels each, concatenated), its squeeze layer staying frozen; two blocks are fire8's expand
 * convolutions, fire9's squeeze and fire9's expand. A layer list cannot branch, so each expand
 * pair is one 3x3 convolution with 512 outputs whose first 256 kernels hold the 1x1 weights at
 * their centre and zeros around it (the zeros may train: a superset of the original block).
 * With the pretrained values copied in, the layers compute exactly what the frozen base
 * computes (within float rounding; checked by TunableTailTest).
 */
public final class TunableTail {
  private final String baseId;
  private final int blocks;
  private final int[] inputShape;

  private final boolean squeezeNet;

  private TunableTail(String baseId, int blocks) {
    this.baseId = baseId;
    this.blocks = blocks;
    this.squeezeNet = Bases.nameOf(baseId).equals(SqueezeNetBase.ID);
    int inputSize = Bases.inputSize(baseId);
    this.inputShape =
        squeezeNet ? SqueezeNetBase.tailInputShape(inputSize) : MobileNetV1Base.tailInputShape(inputSize, blocks);
  }

  /** The tail left out of base id {@code tailBaseId} ({@code <base>@tail<k>}). */
  public static TunableTail of(String tailBaseId) {
    int blocks = Bases.tailBlocks(tailBaseId);
    if (blocks == 0) {
      throw new IllegalArgumentException(
          "'" + tailBaseId + "' names no trainable tail; expected <base>" + Bases.TAIL + "<blocks>");
    }
    return new TunableTail(frozenPartId(Bases.baseOf(tailBaseId), blocks), blocks);
  }

  /** The id of the frozen part that feeds a tail of {@code blocks}, {@code <base>@tail<k>} (an input size kept). */
  public static String frozenPartId(String baseId, int blocks) {
    boolean whole = Bases.tailBlocks(baseId) == 0 && Bases.pixelSize(baseId) < 0;
    if (whole && Bases.nameOf(baseId).equals(MobileNetV1Base.ID)) {
      MobileNetV1Base.checkTail(blocks);
      return MobileNetV1Base.idWithTail(Bases.inputSize(baseId), blocks);
    }
    if (whole && Bases.nameOf(baseId).equals(SqueezeNetBase.ID)) {
      SqueezeNetBase.checkTail(blocks);
      return SqueezeNetBase.idWithTail(Bases.inputSize(baseId), blocks);
    }
    throw new IllegalArgumentException("Fine-tuning supports base " + MobileNetV1Base.ID + " (1 or 2 blocks) or "
        + SqueezeNetBase.ID + " (1 or 2), not '" + baseId + "'");
  }

  public String baseId() {
    return baseId;
  }

  /** The input: the frozen part's activation, flattened NCHW. */
  public InputType inputType() {
    return InputType.convolutionalFlat(inputShape[1], inputShape[2], inputShape[0]);
  }

  public int inputLength() {
    return inputShape[0] * inputShape[1] * inputShape[2];
  }

  /** Length of the pooled output: the base's usual feature size. */
  public int outputLength() {
    return squeezeNet ? SqueezeNetBase.FEATURES : MobileNetV1Base.FEATURES;
  }

  /** Number of DL4J layers {@link #layers()} returns. */
  public int layerCount() {
    return squeezeNet ? 2 * blocks : 2 * blocks + 1;
  }

  /**
   * MobileNet: depthwise + pointwise convolution (ReLU6, with bias) per block; SqueezeNet: the
   * merged expand convolution (ReLU), preceded for two blocks by fire8's merged expand and
   * fire9's squeeze (ReLU); then average pooling.
   */
  public List<Layer> layers() {
    List<Layer> layers = new ArrayList<>();
    if (squeezeNet) {
      if (blocks == 2) {
        layers.add(mergedExpand("fire8/expand"));
        layers.add(
            new ConvolutionLayer.Builder(1, 1)
                .stride(1, 1)
                .nIn(SqueezeNetBase.FEATURES)
                .nOut(inputShape[0])
                .convolutionMode(ConvolutionMode.Same)
                .hasBias(true)
                .activation(Activation.RELU)
                .name("fire9/squeeze1x1")
                .build());
      }
      layers.add(mergedExpand("fire9/expand"));
      layers.add(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avg_pool").build());
      return layers;
    }
    for (int b = firstBlock(); b <= 13; b++) {
      int in = channels(b - 1);
      layers.add(
          new DepthwiseConvolution2D.Builder(3, 3)
              .stride(stride(b), stride(b))
              .depthMultiplier(1)
              .nIn(in)
              .nOut(in)
              .convolutionMode(ConvolutionMode.Same)
              .hasBias(true)
              .activation(Activation.RELU6)
              .name("conv_dw_" + b)
              .build());
      layers.add(
          new ConvolutionLayer.Builder(1, 1)
              .stride(1, 1)
              .nIn(in)
              .nOut(channels(b))
              .convolutionMode(ConvolutionMode.Same)
              .hasBias(true)
              .activation(Activation.RELU6)
              .name("conv_pw_" + b)
              .build());
    }
    layers.add(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avg_pool").build());
    return layers;
  }

  /** A fire module's expand 1x1 and 3x3 convolutions (squeeze output in, 512 out) as one 3x3. */
  private ConvolutionLayer mergedExpand(String name) {
    return new ConvolutionLayer.Builder(3, 3)
        .stride(1, 1)
        .nIn(inputShape[0])
        .nOut(SqueezeNetBase.FEATURES)
        .convolutionMode(ConvolutionMode.Same)
        .hasBias(true)
        .activation(Activation.RELU)
        .name(name)
        .build();
  }

  /**
   * Copies the pretrained (BatchNorm-folded) weights of the bundled base into
   * the trainable layers of {@code net} (all of {@link #layers()} but the pooling), which must
   * start with {@link #layers()}.
   */
  public void copyPretrained(MultiLayerNetwork net) {
    if (squeezeNet) {
      KerasWeights weights = KerasWeights.read(Bases.weights(SqueezeNetBase.ID));
      int layer = 0;
      if (blocks == 2) {
        copySqueezeNetExpand(net, layer++, weights, "fire8");
        KerasWeights.Conv squeeze = weights.takeConv("fire9/squeeze1x1");
        int in = SqueezeNetBase.FEATURES;
        int out = inputShape[0];
        // Keras [1,1,in,out] -> DL4J [out,in,1,1]
        INDArray kernel =
            Nd4j.create(KerasWeights.values(squeeze.kernel()), new long[] {1, 1, in, out}, 'c').permute(3, 2, 0, 1);
        set(net, layer++, kernel, KerasWeights.values(squeeze.bias()));
      }
      copySqueezeNetExpand(net, layer, weights, "fire9");
      return;
    }
    KerasWeights weights = KerasWeights.read(Bases.weights(MobileNetV1Base.ID));
    int layer = 0;
    for (int b = firstBlock(); b <= 13; b++) {
      int in = channels(b - 1);
      int out = channels(b);
      String dw = "conv_dw_" + b;
      INDArray dwKernel = weights.takeDepthwise(dw);
      FoldedBatchNorm depthwise =
          FoldedBatchNorm.fold(KerasWeights.values(dwKernel), in, weights.takeBatchNorm(dw + "_bn"), dw + "_bn");
      // Keras' [3,3,C,1] is DL4J's depthwise layout
      set(net, layer++, Nd4j.create(depthwise.kernel(), new long[] {3, 3, in, 1}, 'c'), depthwise.bias());
      String pw = "conv_pw_" + b;
      KerasWeights.Conv conv = weights.takeConv(pw);
      FoldedBatchNorm pointwise =
          FoldedBatchNorm.fold(KerasWeights.values(conv.kernel()), out, weights.takeBatchNorm(pw + "_bn"), pw + "_bn");
      // Keras [1,1,in,out] -> DL4J [out,in,1,1]
      INDArray kernel = Nd4j.create(pointwise.kernel(), new long[] {1, 1, in, out}, 'c').permute(3, 2, 0, 1);
      set(net, layer++, kernel, pointwise.bias());
    }
  }

  /**
   * A fire module's expand1x1 ([1,1,64,256]) and expand3x3 ([3,3,64,256]) as one DL4J kernel
   * [512,64,3,3] in layer {@code layer}: outputs 0..255 the 1x1 weights at the centre,
   * 256..511 the 3x3 weights, in the order of the base's concatenation.
   */
  private void copySqueezeNetExpand(MultiLayerNetwork net, int layer, KerasWeights weights, String fire) {
    KerasWeights.Conv e1 = weights.takeConv(fire + "/expand1x1");
    KerasWeights.Conv e3 = weights.takeConv(fire + "/expand3x3");
    int in = inputShape[0];
    int half = SqueezeNetBase.FEATURES / 2;
    float[] k1 = KerasWeights.values(e1.kernel()); // [1,1,in,half]
    float[] k3 = KerasWeights.values(e3.kernel()); // [3,3,in,half]
    float[] merged = new float[2 * half * in * 9]; // [out,in,3,3]
    for (int o = 0; o < half; o++) {
      for (int i = 0; i < in; i++) {
        merged[((o * in + i) * 3 + 1) * 3 + 1] = k1[i * half + o];
        for (int y = 0; y < 3; y++) {
          for (int x = 0; x < 3; x++) {
            merged[(((half + o) * in + i) * 3 + y) * 3 + x] = k3[((y * 3 + x) * in + i) * half + o];
          }
        }
      }
    }
    float[] bias = new float[2 * half];
    System.arraycopy(KerasWeights.values(e1.bias()), 0, bias, 0, half);
    System.arraycopy(KerasWeights.values(e3.bias()), 0, bias, half, half);
    set(net, layer, Nd4j.create(merged, new long[] {2 * half, in, 3, 3}, 'c'), bias);
  }

  private static void set(MultiLayerNetwork net, int layer, INDArray kernel, float[] bias) {
    org.deeplearning4j.nn.api.Layer l = net.getLayer(layer);
    INDArray w = l.getParam("W");
    if (!java.util.Arrays.equals(w.shape(), kernel.shape())) {
      throw new IllegalStateException("Layer " + layer + " has W " + java.util.Arrays.toString(w.shape())
          + " but the pretrained kernel is " + java.util.Arrays.toString(kernel.shape()));
    }
    l.setParam("W", kernel.castTo(DataType.FLOAT).dup('c'));
    l.setParam("b", Nd4j.create(bias, new long[] {1, bias.length}, 'c').castTo(w.dataType()));
  }

  private int firstBlock() {
    return 14 - blocks;
  }

  private static int channels(int block) {
    return MobileNetV1Base.channels(block);
  }

  private static int stride(int block) {
    return MobileNetV1Base.dwStride(block);
  }
}
