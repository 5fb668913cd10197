package io.bottleneck.nets.dl4j;

import io.bottleneck.nets.Architecture;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.FoldedBatchNorm;
import io.bottleneck.nets.KerasWeights;
import io.bottleneck.nets.architectures.MobileNetV1;
import io.bottleneck.nets.architectures.MobileNetV2;
import io.bottleneck.nets.architectures.SqueezeNet;
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
 * For MobileNetV2 (1 block only) the tail is block_16 and Conv_1: 1x1 expansion 160 -> 960
 * (ReLU6), 3x3 depthwise (ReLU6), linear 1x1 projection 960 -> 320, Conv_1 1x1 320 -> 1280
 * (ReLU6), each BatchNormalization folded in; block_16 has no residual (its channels change).
 * With the pretrained values copied in, the layers compute exactly what the frozen base
 * computes (within float rounding; checked by TunableTailTest).
 */
public final class TunableTail {
  private final String baseId;
  private final Blocks architecture;

  private TunableTail(String baseId, int blocks) {
    this.baseId = baseId;
    Architecture a = Bases.architecture(baseId);
    this.architecture = a.tunableTail(blocks, a.tailInputShape(Bases.inputSize(baseId), blocks));
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
    List<Architecture> tunable = Bases.architectures().stream().filter(a -> a.maxTailBlocks() > 0).toList();
    for (Architecture a : tunable) {
      if (whole && a.id().equals(Bases.nameOf(baseId))) {
        a.checkTail(blocks);
        return a.idWithTail(Bases.inputSize(baseId), blocks);
      }
    }
    throw new IllegalArgumentException("Fine-tuning supports base " + String.join(", ", tunable.stream()
        .map(a -> a.id() + " (" + (a.maxTailBlocks() == 1 ? "1 block" : "1 to " + a.maxTailBlocks() + " blocks") + ")")
        .toList()) + ", not '" + baseId + "'");
  }

  public String baseId() {
    return baseId;
  }

  /** The input: the frozen part's activation, flattened NCHW. */
  public InputType inputType() {
    int[] shape = architecture.inputShape();
    return InputType.convolutionalFlat(shape[1], shape[2], shape[0]);
  }

  public int inputLength() {
    int[] shape = architecture.inputShape();
    return shape[0] * shape[1] * shape[2];
  }

  /** Length of the pooled output: the base's usual feature size. */
  public int outputLength() {
    return architecture.outputLength();
  }

  /** Number of DL4J layers {@link #layers()} returns. */
  public int layerCount() {
    return architecture.convolutions().size() + 1;
  }

  /**
   * MobileNet: depthwise + pointwise convolution (ReLU6, with bias) per block; SqueezeNet: the
   * merged expand convolution (ReLU), preceded for two blocks by fire8's merged expand and
   * fire9's squeeze (ReLU); MobileNetV2: expand, depthwise, project (linear), Conv_1; then
   * average pooling.
   */
  public List<Layer> layers() {
    List<Layer> layers = architecture.convolutions();
    layers.add(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("avg_pool").build());
    return layers;
  }

  /**
   * Copies the pretrained (BatchNorm-folded) weights of the bundled base into
   * the trainable layers of {@code net} (all of {@link #layers()} but the pooling), which must
   * start with {@link #layers()}.
   */
  public void copyPretrained(MultiLayerNetwork net) {
    architecture.copyPretrained(net);
  }

  /** MobileNet v1's last {@code blocks} depthwise + pointwise blocks, entered at {@code inputShape}. */
  public static Blocks mobileNetV1(int blocks, int[] inputShape) {
    return new MobileNetV1Tail(blocks, inputShape);
  }

  /** SqueezeNet's fire9 expand (1 block), or fire8's expand and fire9 (2), entered at {@code inputShape}. */
  public static Blocks squeezeNet(int blocks, int[] inputShape) {
    return new SqueezeNetTail(blocks, inputShape);
  }

  /** MobileNetV2's block_16 and Conv_1, entered at {@code inputShape}. */
  public static Blocks mobileNetV2(int[] inputShape) {
    return new MobileNetV2Tail(inputShape);
  }

  /**
   * One architecture's tail ({@link Architecture#tunableTail}): its convolution layers (before
   * the pooling) and their pretrained values.
   */
  public interface Blocks {
    /** Channels, height, width of the frozen part's activation. */
    int[] inputShape();

    int outputLength();

    /** The tail's layers without the final average pooling, in a mutable list. */
    List<Layer> convolutions();

    /** Copies the pretrained values into layers 0.. of {@code net}. */
    void copyPretrained(MultiLayerNetwork net);
  }

  /** MobileNet v1's last 1 or 2 depthwise + pointwise blocks. */
  private record MobileNetV1Tail(int blocks, int[] inputShape) implements Blocks {
    @Override
    public int outputLength() {
      return MobileNetV1.FEATURES;
    }

    private int firstBlock() {
      return 14 - blocks;
    }

    @Override
    public List<Layer> convolutions() {
      List<Layer> layers = new ArrayList<>();
      for (int b = firstBlock(); b <= 13; b++) {
        int in = MobileNetV1.channels(b - 1);
        int stride = MobileNetV1.dwStride(b);
        layers.add(depthwise("conv_dw_" + b, in, stride, Activation.RELU6));
        layers.add(conv1x1("conv_pw_" + b, in, MobileNetV1.channels(b), Activation.RELU6));
      }
      return layers;
    }

    @Override
    public void copyPretrained(MultiLayerNetwork net) {
      KerasWeights weights = KerasWeights.read(Bases.weights(MobileNetV1.ID));
      int layer = 0;
      for (int b = firstBlock(); b <= 13; b++) {
        int in = MobileNetV1.channels(b - 1);
        int out = MobileNetV1.channels(b);
        String dw = "conv_dw_" + b;
        copyDepthwise(net, layer++, weights, dw, dw + "_bn", in);
        String pw = "conv_pw_" + b;
        copyConv1x1(net, layer++, weights, pw, pw + "_bn", in, out);
      }
    }
  }

  /** MobileNetV2's block_16 (expand, depthwise, linear project; no residual) and Conv_1. */
  private record MobileNetV2Tail(int[] inputShape) implements Blocks {
    private static final int EXPANDED = 6 * MobileNetV2.TAIL_CHANNELS; // 960
    private static final int PROJECTED = 320;

    @Override
    public int outputLength() {
      return MobileNetV2.FEATURES;
    }

    @Override
    public List<Layer> convolutions() {
      List<Layer> layers = new ArrayList<>();
      layers.add(conv1x1("block_16_expand", MobileNetV2.TAIL_CHANNELS, EXPANDED, Activation.RELU6));
      layers.add(depthwise("block_16_depthwise", EXPANDED, 1, Activation.RELU6));
      layers.add(conv1x1("block_16_project", EXPANDED, PROJECTED, Activation.IDENTITY));
      layers.add(conv1x1("Conv_1", PROJECTED, MobileNetV2.FEATURES, Activation.RELU6));
      return layers;
    }

    @Override
    public void copyPretrained(MultiLayerNetwork net) {
      KerasWeights weights = KerasWeights.read(Bases.weights(MobileNetV2.ID));
      copyConv1x1(net, 0, weights, "block_16_expand", "block_16_expand_BN", MobileNetV2.TAIL_CHANNELS, EXPANDED);
      copyDepthwise(net, 1, weights, "block_16_depthwise", "block_16_depthwise_BN", EXPANDED);
      copyConv1x1(net, 2, weights, "block_16_project", "block_16_project_BN", EXPANDED, PROJECTED);
      copyConv1x1(net, 3, weights, "Conv_1", "Conv_1_bn", PROJECTED, MobileNetV2.FEATURES);
    }
  }

  /** SqueezeNet's fire9 expand, preceded for two blocks by fire8's expand and fire9's squeeze. */
  private record SqueezeNetTail(int blocks, int[] inputShape) implements Blocks {
    @Override
    public int outputLength() {
      return SqueezeNet.FEATURES;
    }

    @Override
    public List<Layer> convolutions() {
      List<Layer> layers = new ArrayList<>();
      if (blocks == 2) {
        layers.add(mergedExpand("fire8/expand"));
        layers.add(
            new ConvolutionLayer.Builder(1, 1)
                .stride(1, 1)
                .nIn(SqueezeNet.FEATURES)
                .nOut(inputShape[0])
                .convolutionMode(ConvolutionMode.Same)
                .hasBias(true)
                .activation(Activation.RELU)
                .name("fire9/squeeze1x1")
                .build());
      }
      layers.add(mergedExpand("fire9/expand"));
      return layers;
    }

    /** A fire module's expand 1x1 and 3x3 convolutions (squeeze output in, 512 out) as one 3x3. */
    private ConvolutionLayer mergedExpand(String name) {
      return new ConvolutionLayer.Builder(3, 3)
          .stride(1, 1)
          .nIn(inputShape[0])
          .nOut(SqueezeNet.FEATURES)
          .convolutionMode(ConvolutionMode.Same)
          .hasBias(true)
          .activation(Activation.RELU)
          .name(name)
          .build();
    }

    @Override
    public void copyPretrained(MultiLayerNetwork net) {
      KerasWeights weights = KerasWeights.read(Bases.weights(SqueezeNet.ID));
      int layer = 0;
      if (blocks == 2) {
        copySqueezeNetExpand(net, layer++, weights, "fire8");
        KerasWeights.Conv squeeze = weights.takeConv("fire9/squeeze1x1");
        int in = SqueezeNet.FEATURES;
        int out = inputShape[0];
        // Keras [1,1,in,out] -> DL4J [out,in,1,1]
        INDArray kernel =
            Nd4j.create(KerasWeights.values(squeeze.kernel()), new long[] {1, 1, in, out}, 'c').permute(3, 2, 0, 1);
        set(net, layer++, kernel, KerasWeights.values(squeeze.bias()));
      }
      copySqueezeNetExpand(net, layer, weights, "fire9");
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
      int half = SqueezeNet.FEATURES / 2;
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
  }

  /** 3x3 depthwise convolution (multiplier 1, Same padding, with bias). */
  private static DepthwiseConvolution2D depthwise(String name, int channels, int stride, Activation activation) {
    return new DepthwiseConvolution2D.Builder(3, 3)
        .stride(stride, stride)
        .depthMultiplier(1)
        .nIn(channels)
        .nOut(channels)
        .convolutionMode(ConvolutionMode.Same)
        .hasBias(true)
        .activation(activation)
        .name(name)
        .build();
  }

  /** 1x1 convolution with bias. */
  private static ConvolutionLayer conv1x1(String name, int in, int out, Activation activation) {
    return new ConvolutionLayer.Builder(1, 1)
        .stride(1, 1)
        .nIn(in)
        .nOut(out)
        .convolutionMode(ConvolutionMode.Same)
        .hasBias(true)
        .activation(activation)
        .name(name)
        .build();
  }

  /** Keras depthwise kernel {@code name} with BatchNorm {@code bn} folded in, into layer {@code layer}. */
  private static void copyDepthwise(MultiLayerNetwork net, int layer, KerasWeights weights, String name, String bn,
      int channels) {
    INDArray kernel = weights.takeDepthwise(name);
    FoldedBatchNorm folded = FoldedBatchNorm.fold(KerasWeights.values(kernel), channels, weights.takeBatchNorm(bn), bn);
    // Keras' [3,3,C,1] is DL4J's depthwise layout
    set(net, layer, Nd4j.create(folded.kernel(), new long[] {3, 3, channels, 1}, 'c'), folded.bias());
  }

  /** Keras 1x1 kernel {@code name} (no bias) with BatchNorm {@code bn} folded in, into layer {@code layer}. */
  private static void copyConv1x1(MultiLayerNetwork net, int layer, KerasWeights weights, String name, String bn,
      int in, int out) {
    KerasWeights.Conv conv = weights.takeConv(name);
    FoldedBatchNorm folded =
        FoldedBatchNorm.fold(KerasWeights.values(conv.kernel()), out, weights.takeBatchNorm(bn), bn);
    // Keras [1,1,in,out] -> DL4J [out,in,1,1]
    INDArray kernel = Nd4j.create(folded.kernel(), new long[] {1, 1, in, out}, 'c').permute(3, 2, 0, 1);
    set(net, layer, kernel, folded.bias());
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
}
