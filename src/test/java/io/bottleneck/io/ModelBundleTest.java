package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ModelBundleTest {
  @TempDir Path tmp;
  private final Configuration conf = new Configuration();

  private static MultiLayerNetwork head(long seed) {
    MultiLayerNetwork net =
        new MultiLayerNetwork(
            new NeuralNetConfiguration.Builder()
                .seed(seed)
                .list()
                .layer(new DenseLayer.Builder().nIn(8).nOut(5).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(5).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
    net.init();
    return net;
  }

  @Test
  void roundTripGivesIdenticalPredictionsAndMetadata() throws Exception {
    MultiLayerNetwork net = head(7);
    ModelBundle bundle =
        ModelBundle.create("mobilenet_v1_0.25", "prep-v1", 8, List.of("ant", "bee", "wasp"), net,
            Map.of("epochs_run", 3), Map.of("accuracy", 0.5));
    String dir = tmp.resolve("model").toUri().toString();
    bundle.save(dir, conf);
    ModelBundle loaded = ModelBundle.load(dir, conf);

    assertThat(loaded.modelId()).isEqualTo(bundle.modelId()).startsWith("mobilenetv1025-");
    assertThat(loaded.baseId()).isEqualTo("mobilenet_v1_0.25");
    assertThat(loaded.preprocessingId()).isEqualTo("prep-v1");
    assertThat(loaded.featureSize()).isEqualTo(8);
    assertThat(loaded.classes()).containsExactly("ant", "bee", "wasp");
    assertThat(loaded.training()).containsEntry("epochs_run", 3);
    assertThat(loaded.metrics()).containsEntry("accuracy", 0.5);

    INDArray x = Nd4j.rand(DataType.FLOAT, 16, 8);
    assertThat(loaded.head().output(x, false)).isEqualTo(net.output(x, false));
  }

  @Test
  void modelIdDependsOnWeightsAndClasses() {
    MultiLayerNetwork a = head(1);
    MultiLayerNetwork b = head(2);
    List<String> classes = List.of("cat", "dog");
    assertThat(ModelBundle.modelId("b", "p", classes, a)).isEqualTo(ModelBundle.modelId("b", "p", classes, a));
    assertThat(ModelBundle.modelId("b", "p", classes, a)).isNotEqualTo(ModelBundle.modelId("b", "p", classes, b));
    assertThat(ModelBundle.modelId("b", "p", classes, a)).isNotEqualTo(ModelBundle.modelId("b", "p", List.of("dog", "cat"), a));
  }

  @Test
  void savingOverAnOldBundleNeedsOverwrite() throws Exception {
    String dir = tmp.resolve("m").toUri().toString();
    ModelBundle first = ModelBundle.create("x", "p", 8, List.of("a", "b", "c"), head(1), null, null);
    first.save(dir, conf);
    ModelBundle second = ModelBundle.create("x", "p", 8, List.of("a", "b", "c"), head(2), null, null);

    assertThatThrownBy(() -> second.save(dir, conf))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("A model bundle already exists at " + dir + " (it has a bundle.json): choose another"
            + " directory, delete it, or save with overwrite (save(uri, conf, true))");
    assertThatThrownBy(() -> second.save(dir, conf, false)).isInstanceOf(IllegalArgumentException.class);
    assertThat(ModelBundle.load(dir, conf).modelId()).as("the refused save left the old bundle").isEqualTo(first.modelId());

    Files.writeString(tmp.resolve("m").resolve("stale.txt"), "from before");
    second.save(dir, conf, true);
    assertThat(ModelBundle.load(dir, conf).modelId()).isEqualTo(second.modelId());
    assertThat(tmp.resolve("m").resolve("stale.txt")).as("overwrite replaces the whole directory").doesNotExist();
  }

  @Test
  void savingIntoADirectoryWithoutABundleKeepsWhatIsThere() throws Exception {
    Path folder = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(folder.resolve("notes.txt"), "mine");
    String dir = folder.toUri().toString();
    ModelBundle bundle = ModelBundle.create("x", "p", 8, List.of("a", "b", "c"), head(3), null, null);
    bundle.save(dir, conf);
    assertThat(ModelBundle.load(dir, conf).modelId()).isEqualTo(bundle.modelId());
    assertThat(folder.resolve("notes.txt")).hasContent("mine");
  }

  @Test
  void loadingANonBundleNamesTheFile() throws Exception {
    String empty = tmp.resolve("empty").toUri().toString();
    assertThatThrownBy(() -> ModelBundle.load(empty, conf))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("Not a model bundle: " + empty + " has no bundle.json (write one with train or pipeline)");
  }
}
