package io.bottleneck.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.spark.api.TrainingHook;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.MultiDataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Seeds the worker thread's ND4J random generator before each mini-batch from the seed and the
 * mini-batch's content. Dropout masks come from that thread-local generator, which workers never
 * reseed (they init with given parameters), so without this the masks depend on which executor
 * thread ran which task before and training is not reproducible.
 */
final class DropoutSeeder implements TrainingHook {
  private static final long serialVersionUID = 1L;
  private final long seed;

  DropoutSeeder(long seed) {
    this.seed = seed;
  }

  @Override
  public void preUpdate(DataSet minibatch, Model model) {
    Nd4j.getRandom().setSeed(contentSeed(minibatch.getFeatures()));
  }

  /**
   * The seed mixed with every feature value in row-major order. One flat copy of the features:
   * {@code toFloatMatrix()} built one Java array per row through ND4J's row views, which cost a
   * sizeable part of each mini-batch's fit.
   */
  long contentSeed(INDArray features) {
    float[] values = Nd4j.toFlattened('c', features).toFloatVector();
    long h = IndexPermutation.mix(seed);
    for (float v : values) {
      h = IndexPermutation.mix(h ^ Float.floatToIntBits(v));
    }
    return h;
  }

  @Override
  public void postUpdate(DataSet minibatch, Model model) {}

  @Override
  public void preUpdate(MultiDataSet minibatch, Model model) {}

  @Override
  public void postUpdate(MultiDataSet minibatch, Model model) {}
}
