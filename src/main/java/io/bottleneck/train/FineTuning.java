package io.bottleneck.train;

import io.bottleneck.nets.dl4j.TunableTail;
import java.util.Objects;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * The network of the second stage of the Keras fine-tuning recipe: the base's last block(s),
 * unfrozen, followed by the head trained in the first stage, both starting from their trained
 * values. Its input is what the frozen part of the base computes ({@link TunableTail}), cached
 * like any features, so only the unfrozen layers and the head are ever trained: the frozen
 * layers are not part of this network at all, which is what freezing means.
 */
public final class FineTuning {
  private FineTuning() {}

  /**
   * Tail layers (pretrained) + the layers of {@code head} (its trained parameters, including
   * batch-norm statistics and dropout), with {@code config}'s optimizer, learning rate and L2
   * for every layer.
   */
  public static MultiLayerNetwork network(TunableTail tail, MultiLayerNetwork head, HeadConfig config) {
    Objects.requireNonNull(tail, "tail");
    Objects.requireNonNull(head, "head");
    if (HeadSnapshot.inputLength(head) != tail.outputLength()) {
      throw new IllegalArgumentException("The head takes " + HeadSnapshot.inputLength(head)
          + " features but the tail of " + tail.baseId() + " gives " + tail.outputLength());
    }
    IUpdater updater = HeadNetwork.updater(config.optimizer(), config.learningRate());
    NeuralNetConfiguration.ListBuilder layers =
        new NeuralNetConfiguration.Builder()
            .seed(config.seed())
            .dataType(DataType.FLOAT)
            .updater(updater)
            .l2(config.l2())
            .list();
    for (Layer layer : tail.layers()) {
      layers.layer(layer);
    }
    MultiLayerConfiguration headConf = head.getLayerWiseConfigurations();
    for (int i = 0; i < head.getnLayers(); i++) {
      Layer layer = headConf.getConf(i).getLayer().clone();
      if (layer instanceof BaseLayer trainable) {
        // the head's own (first-stage) updater would keep its higher learning rate
        trainable.setIUpdater(updater.clone());
      }
      layers.layer(layer);
    }
    layers.setInputType(tail.inputType());
    MultiLayerNetwork net = new MultiLayerNetwork(layers.build());
    net.init();
    tail.copyPretrained(net);
    for (int i = 0; i < head.getnLayers(); i++) {
      if (head.getLayer(i).numParams() > 0) {
        net.getLayer(tail.layerCount() + i).setParams(head.getLayer(i).params().dup());
      }
    }
    return net;
  }
}
