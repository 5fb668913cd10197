package io.bottleneck.nets.tf;

import io.bottleneck.nets.architectures.MobileNetV1;
import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.nets.Bases;
import io.bottleneck.nets.BasesTest;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.nets.dl4j.MobileNetV1Base;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.tensorflow.Graph;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.types.TFloat32;

/**
 * TensorFlow Java 0.5.0 and DL4J M2 share one JVM only with JavaCPP forced to 1.5.8 (see
 * shared/VERSIONS.md): with the wrong JavaCPP, whichever native side loads second fails. Runs
 * TF forward, DL4J training, TF forward again; once in this (already warm) JVM and once in a
 * fresh JVM where TensorFlow's natives load before ND4J's.
 */
class TfDl4jCoexistenceTest {

  @Test
  void tensorflowThenDl4jTrainingThenTensorflowInThisJvm() {
    Sequence.run();
  }

  @Test
  void tensorflowFirstInAFreshJvm() throws IOException, InterruptedException {
    String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g",
        "-cp", System.getProperty("java.class.path"), Sequence.class.getName()));
    File log = File.createTempFile("coexistence-", ".log");
    log.deleteOnExit();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log).start();
    boolean finished = p.waitFor(180, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
    assertThat(finished).as("child JVM finished; output:%n%s", out).isTrue();
    assertThat(p.exitValue()).as("child JVM exit code; output:%n%s", out).isZero();
    assertThat(out).contains("COEXISTENCE OK");
  }

  /** The sequence, also the child JVM's main class. */
  static final class Sequence {

    public static void main(String[] args) {
      // TF's natives first, before anything touches ND4J (the weights reader does)
      try (Graph g = new Graph(); Session s = new Session(g)) {
        Ops tf = Ops.create(g);
        try (TFloat32 t = (TFloat32) s.runner()
            .fetch(tf.math.add(tf.constant(1f), tf.constant(2f))).run().get(0)) {
          if (t.getFloat() != 3f) {
            throw new AssertionError("1 + 2 = " + t.getFloat());
          }
        }
      }
      run();
      System.out.println("COEXISTENCE OK");
    }

    static void run() {
      var images = List.of(BasesTest.image("cat.0.jpg"), BasesTest.image("dog.0.jpg"));
      float[][] before;
      try (ImageBase tf = Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW)) {
        before = tf.featurize(images);
      }

      double[] scores = trainTinyNetwork();
      assertThat(scores[1]).as("DL4J training lowers the loss").isLessThan(scores[0]);

      try (ImageBase tf = Bases.load(MobileNetV1.ID, Bases.ENGINE_TENSORFLOW);
          ImageBase dl4j = Bases.load(MobileNetV1.ID, Bases.ENGINE_DL4J)) {
        float[][] after = tf.featurize(images);
        float[][] reference = dl4j.featurize(images);
        for (int i = 0; i < images.size(); i++) {
          BasesTest.assertClose(after[i], before[i], 0f);
          BasesTest.assertClose(after[i], reference[i], 1e-4f);
        }
      }
    }

    /** Fits a small dense network on a separable toy problem; returns loss before, after. */
    private static double[] trainTinyNetwork() {
      MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder()
          .seed(7)
          .updater(new Adam(0.05))
          .list()
          .layer(new DenseLayer.Builder().nIn(8).nOut(16).activation(Activation.RELU).build())
          .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
              .nIn(16).nOut(2).activation(Activation.SOFTMAX).build())
          .build();
      MultiLayerNetwork net = new MultiLayerNetwork(conf);
      net.init();
      Nd4j.getRandom().setSeed(7);
      INDArray x = Nd4j.rand(64, 8).subi(0.5);
      INDArray labels = Nd4j.zeros(64, 2);
      for (int i = 0; i < 64; i++) {
        labels.putScalar(i, x.getDouble(i, 0) > 0 ? 1 : 0, 1.0);
      }
      DataSet data = new DataSet(x, labels);
      double first = net.score(data);
      for (int epoch = 0; epoch < 30; epoch++) {
        net.fit(data);
      }
      return new double[] {first, net.score(data)};
    }
  }
}
