package io.bottleneck.nets.tf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.io.Images;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases.InvalidDeclaration;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ImageBase;
import io.bottleneck.testing.TinyOnnx;
import io.bottleneck.testing.TinySavedModel;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Declared SavedModel bases on TensorFlow Java, from SavedModels the test writes itself. */
class SavedModelBaseTest {
  private static final int SIDE = 32;
  private static final String CAT = "data/sample/train/cat.0.jpg";
  private static final String DOG = "data/sample/train/dog.1.jpg";
  @TempDir Path tmp;

  private final Configuration conf = new Configuration();

  private static BaseDeclaration declare(String name, Path model, int size, Layout layout, String output,
      Pooling pooling, String signature) {
    float[] tf = BaseDeclaration.preset("tf");
    return new BaseDeclaration(name, Format.SAVEDMODEL, model.toUri().toString(), size, layout, false, tf[1],
        new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", output, pooling, signature, "");
  }

  private static BaseDeclaration declare(String name, Path model, Layout layout, String output, Pooling pooling) {
    return declare(name, model, SIDE, layout, output, pooling, "serving_default");
  }

  private static List<BufferedImage> sampleImages() throws Exception {
    return List.of(Images.decode(Files.readAllBytes(Path.of(CAT)), CAT), Images.decode(Files.readAllBytes(Path.of(DOG)), DOG));
  }

  private static float[] image(float[] batch, int i) {
    return Arrays.copyOfRange(batch, i * 3 * SIDE * SIDE, (i + 1) * 3 * SIDE * SIDE);
  }

  private static void assertKey(Throwable e, String key) {
    assertThat(e).isInstanceOf(InvalidDeclaration.class);
    assertThat(((InvalidDeclaration) e).key()).isEqualTo(key);
  }

  @Test
  void featuresEqualAPlainJavaReferenceForEveryOutputKindAndLayout() throws Exception {
    TinySavedModel net = new TinySavedModel(7, SIDE, true);
    Path dir = net.export(tmp.resolve("tiny"), true);
    List<BufferedImage> images = sampleImages();

    BaseDeclaration vector = DeclaredBases.load(declare("sm_vec", dir, Layout.NHWC, "features", Pooling.NONE), conf);
    DeclaredBases.load(declare("sm_avg", dir, Layout.NHWC, "map", Pooling.AVG), conf);
    DeclaredBases.load(declare("sm_max", dir, Layout.NHWC, "map", Pooling.MAX), conf);
    DeclaredBases.load(declare("sm_op", dir, Layout.NHWC, "relu_map:0", Pooling.MAX), conf); // an operation, not a signature key
    DeclaredBases.load(declare("sm_op_plain", dir, Layout.NHWC, "features", Pooling.NONE), conf);
    assertThat(vector.sha256()).hasSize(64).isEqualTo(DeclaredBases.sha256(SavedModels.pack(dir.toUri().toString(), conf)));
    assertThat(vector.preprocessing().id()).contains("-savedmodel-sha256-" + vector.sha256().substring(0, 16));

    float[] nchw = vector.preprocessing().toNchw(images);
    try (ImageBase v = Bases.load("sm_vec", "dl4j");
        ImageBase a = Bases.load("sm_avg", "onnx");
        ImageBase m = Bases.load("sm_max", "tensorflow");
        ImageBase op = Bases.load("sm_op", "tensorflow")) {
      assertThat(v.engine()).isEqualTo("tensorflow"); // the format decides, not the engine asked for
      assertThat(v.channelsLast()).isTrue();
      assertThat(v.poolKey()).isEqualTo("sm_vec#" + vector.sha256());
      assertThat(v.featureSize()).isEqualTo(TinySavedModel.CHANNELS);
      assertThat(a.featureSize()).isEqualTo(TinySavedModel.CHANNELS);
      float[][] fv = v.featurize(images);
      float[][] fa = a.featurize(images);
      float[][] fm = m.featurize(images);
      float[][] fo = op.featurize(images);
      for (int i = 0; i < images.size(); i++) {
        assertThat(fv[i]).containsExactly(net.reference(image(nchw, i), SIDE, false), offset(1e-5f));
        assertThat(fa[i]).containsExactly(fv[i], offset(1e-5f)); // pooled here = mean in the graph
        assertThat(fm[i]).containsExactly(net.reference(image(nchw, i), SIDE, true), offset(1e-5f));
        assertThat(fo[i]).containsExactly(fm[i], offset(1e-6f));
      }
      // the file-based path (what the featurize tasks run) gives the same vectors
      float[][] fromFiles = v.featurizeFiles(
          List.of(Files.readAllBytes(Path.of(CAT)), Files.readAllBytes(Path.of(DOG))), List.of(CAT, DOG));
      assertThat(fromFiles[1]).containsExactly(fv[1], offset(1e-6f));
    }

    // the same network in NCHW, with a fixed input size, and as ONNX: the same features
    Path nchwDir = new TinySavedModel(7, SIDE, false).export(tmp.resolve("tiny_nchw"), false);
    DeclaredBases.load(declare("sm_nchw", nchwDir, Layout.NCHW, "map", Pooling.AVG), conf);
    Path onnx = tmp.resolve("tiny.onnx");
    Files.write(onnx, new TinyOnnx(7, SIDE, false).model(false));
    float[] t = BaseDeclaration.preset("tf");
    DeclaredBases.load(new BaseDeclaration("sm_as_onnx", Format.ONNX, onnx.toUri().toString(), SIDE, Layout.NCHW,
        false, t[1], new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", "features", Pooling.NONE, "", ""), conf);
    try (ImageBase n = Bases.load("sm_nchw", "tensorflow"); ImageBase o = Bases.load("sm_as_onnx", "onnx");
        ImageBase v = Bases.load("sm_vec", "tensorflow")) {
      assertThat(n.channelsLast()).isFalse();
      float[][] fn = n.featurize(images);
      assertThat(fn[0]).containsExactly(v.featurize(images)[0], offset(1e-5f));
      assertThat(fn[1]).containsExactly(o.featurize(images)[1], offset(1e-5f));
    }
  }

  @Test
  void packingIsDeterministicAndRoundTrips() throws Exception {
    Path dir = new TinySavedModel(3, SIDE, true).export(tmp.resolve("det"), true);
    byte[] first = SavedModels.pack(dir.toUri().toString(), conf);
    try (var files = Files.walk(dir)) {
      for (Path p : files.toList()) {
        Files.setLastModifiedTime(p, FileTime.fromMillis(1_234_567_000L));
      }
    }
    byte[] second = SavedModels.pack(dir.toString(), conf);
    assertThat(second).isEqualTo(first);
    Path out = Files.createDirectory(tmp.resolve("out"));
    SavedModels.unpack(first, out);
    for (String f : List.of("saved_model.pb", "variables/variables.index")) {
      assertThat(out.resolve(f)).hasSameBinaryContentAs(dir.resolve(f));
    }
    // a packed copy (what a model bundle holds) is a model too, with the same bytes
    Path zip = tmp.resolve("det.savedmodel.zip");
    Files.write(zip, first);
    assertThat(SavedModels.pack(zip.toUri().toString(), conf)).isEqualTo(first);
    assertThat(SavedModels.unpacked(first, DeclaredBases.sha256(first)))
        .isSameAs(SavedModels.unpacked(first, DeclaredBases.sha256(first)));
  }

  @Test
  void anUnknownSignatureListsTheModelsSignatures() throws Exception {
    Path dir = new TinySavedModel(1, SIDE, true).export(tmp.resolve("sig"), true);
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_sig", dir, SIDE, Layout.NHWC, "features", Pooling.NONE, "serving"), conf))
        .satisfies(e -> assertKey(e, "bases.bad_sig.signature"))
        .hasMessageStartingWith("bottleneck.bases.bad_sig.signature: ")
        .hasMessageContaining("no signature 'serving'")
        .hasMessageContaining("serving_default")
        .hasMessageContaining("map_only");
    // another signature is usable
    BaseDeclaration other = DeclaredBases.load(declare("map_sig", dir, SIDE, Layout.NHWC, "map", Pooling.AVG, "map_only"), conf);
    assertThat(other.signature()).isEqualTo("map_only");
  }

  @Test
  void anOutputThatIsNeitherASignatureOutputNorAnOperationNamesTheKeyAndTheNearestNames() throws Exception {
    Path dir = new TinySavedModel(1, SIDE, true).export(tmp.resolve("out"), true);
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_out", dir, Layout.NHWC, "featurs", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.bad_out.output"))
        .hasMessageContaining("'featurs' is neither an output of signature 'serving_default'")
        .hasMessageContaining("(its outputs: features, label, map)")
        .hasMessageContaining("nearest operations: features,");
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_index", dir, Layout.NHWC, "relu_map:3", Pooling.AVG), conf))
        .satisfies(e -> assertKey(e, "bases.bad_index.output"));
  }

  @Test
  void aLayoutOrSizeThatContradictsTheInputIsRefused() throws Exception {
    Path nhwc = new TinySavedModel(1, SIDE, true).export(tmp.resolve("nhwc"), false);
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_layout", nhwc, Layout.NCHW, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.bad_layout.layout"))
        .hasMessageContaining("[-1, 32, 32, 3]")
        .hasMessageContaining("(it looks NHWC)");
    Path big = new TinySavedModel(1, 48, true).export(tmp.resolve("big"), false);
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_size", big, Layout.NHWC, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.bad_size.input-size"))
        .hasMessageContaining("fixed at 48x48, not 32x32");
  }

  @Test
  void poolingMustFitTheOutputsRankAndTheOutputMustBeFloat() throws Exception {
    Path dir = new TinySavedModel(1, SIDE, true).export(tmp.resolve("pool"), true);
    assertThatThrownBy(() -> DeclaredBases.load(declare("map_none", dir, Layout.NHWC, "map", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.map_none.pooling"))
        .hasMessageContaining("set pooling = avg or max");
    assertThatThrownBy(() -> DeclaredBases.load(declare("vec_avg", dir, Layout.NHWC, "features", Pooling.AVG), conf))
        .satisfies(e -> assertKey(e, "bases.vec_avg.pooling"))
        .hasMessageContaining("set pooling = none");
    assertThatThrownBy(() -> DeclaredBases.load(declare("int_out", dir, Layout.NHWC, "label", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.int_out.output"))
        .hasMessageContaining("DT_INT64, not float");
  }

  @Test
  void aMissingOrNonSavedModelUriIsRefusedNamingIt() throws Exception {
    assertThatThrownBy(() -> DeclaredBases.load(declare("gone", tmp.resolve("none"), Layout.NHWC, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.gone.uri"))
        .hasMessageContaining("cannot read")
        .hasMessageContaining("none");
    Path notModel = Files.createDirectory(tmp.resolve("photos"));
    Files.copy(Path.of(CAT), notModel.resolve("cat.0.jpg"));
    assertThatThrownBy(() -> DeclaredBases.load(declare("photos", notModel, Layout.NHWC, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.photos.uri"))
        .hasMessageContaining("is not a SavedModel directory: it has no saved_model.pb at its root (it holds cat.0.jpg)");
    assertThatThrownBy(() -> DeclaredBases.load(declare("a_file", Path.of(CAT).toAbsolutePath(), Layout.NHWC, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.a_file.uri"))
        .hasMessageContaining("is a file, not a SavedModel directory");
    // a saved_model.pb that is no graph
    Path broken = Files.createDirectory(tmp.resolve("broken"));
    Files.write(broken.resolve("saved_model.pb"), new byte[] {1, 2, 3, 4});
    assertThatThrownBy(() -> DeclaredBases.load(declare("broken", broken, Layout.NHWC, "features", Pooling.NONE), conf))
        .satisfies(e -> assertKey(e, "bases.broken.uri"))
        .hasMessageContaining("TensorFlow cannot load the SavedModel");
  }

  @Test
  void kerasIsRefusedSayingWhyAndWhatToDo() {
    float[] tf = BaseDeclaration.preset("tf");
    BaseDeclaration keras = new BaseDeclaration("my_keras", Format.KERAS, tmp.resolve("m.h5").toUri().toString(), SIDE,
        Layout.NHWC, false, tf[1], new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", "out", Pooling.AVG, "", "");
    assertThatThrownBy(() -> DeclaredBases.load(keras, conf))
        .satisfies(e -> assertKey(e, "bases.my_keras.format"))
        .hasMessageContaining("KerasModelImport handles a limited set of Keras layers")
        .hasMessageContaining("tf2onnx");
  }

  @Test
  void theModelBundleCarriesThePackedSavedModelAndRestoresIt() throws Exception {
    Path dir = tmp.resolve("user_sm");
    TinySavedModel net = new TinySavedModel(8, SIDE, true);
    net.export(dir, true);
    BaseDeclaration d = DeclaredBases.load(declare("bundled_sm", dir, Layout.NHWC, "features", Pooling.NONE), conf);
    byte[] packed = DeclaredBases.model("bundled_sm");
    MultiLayerNetwork head = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(TinySavedModel.CHANNELS).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build());
    head.init();
    ModelBundle bundle = ModelBundle.create("bundled_sm", d.preprocessing().id(), TinySavedModel.CHANNELS,
        List.of("cat", "dog"), head, Map.of(), Map.of());
    String bundleDir = tmp.resolve("bundle").toUri().toString();
    bundle.save(bundleDir, conf);
    Path bundled = tmp.resolve("bundle/bases/bundled_sm/model.savedmodel.zip");
    assertThat(Files.readAllBytes(bundled)).isEqualTo(packed);

    // the original changes and the name now means another network: the bundle restores its own
    new TinySavedModel(9, SIDE, true).export(dir, true);
    BaseDeclaration changed = DeclaredBases.load(declare("bundled_sm", dir, Layout.NHWC, "features", Pooling.NONE), conf);
    assertThat(changed.sha256()).isNotEqualTo(d.sha256());
    ModelBundle loaded = ModelBundle.load(bundleDir, conf);
    assertThat(loaded.preprocessingId()).isEqualTo(d.preprocessing().id());
    BaseDeclaration restored = DeclaredBases.get("bundled_sm");
    assertThat(restored.sha256()).isEqualTo(d.sha256());
    assertThat(restored.uri()).endsWith("bundle/bases/bundled_sm/model.savedmodel.zip");
    List<BufferedImage> images = sampleImages();
    float[] nchw = d.preprocessing().toNchw(images);
    try (ImageBase base = Bases.load("bundled_sm", "tensorflow")) {
      assertThat(base.preprocessingId()).isEqualTo(loaded.preprocessingId());
      assertThat(base.featurize(images)[1]).containsExactly(net.reference(image(nchw, 1), SIDE, false), offset(1e-5f));
    }

    // the bundle's copy can be declared as it is
    BaseDeclaration fromZip = DeclaredBases.load(declare("from_zip", bundled, Layout.NHWC, "features", Pooling.NONE), conf);
    assertThat(fromZip.sha256()).isEqualTo(d.sha256());

    // a replaced model file is refused, naming it
    Files.deleteIfExists(tmp.resolve("bundle/bases/bundled_sm/.model.savedmodel.zip.crc"));
    Files.write(bundled, SavedModels.pack(dir.toString(), conf)); // the changed model
    assertThatThrownBy(() -> ModelBundle.load(bundleDir, conf))
        .hasMessageContaining("bases/bundled_sm/model.savedmodel.zip")
        .hasMessageContaining("does not have the SHA-256 its bundle recorded");
  }
}
