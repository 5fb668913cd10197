package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.io.Images;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.testing.TinyOnnx;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeclaredBasesTest {
  private static final int SIDE = 32;
  @TempDir Path tmp;

  private final Configuration conf = new Configuration();

  private Path write(String name, byte[] bytes) throws Exception {
    Path p = tmp.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  private static BaseDeclaration declare(String name, Path model, Layout layout, String output, Pooling pooling) {
    float[] tf = BaseDeclaration.preset("tf");
    return new BaseDeclaration(name, Format.ONNX, model.toUri().toString(), SIDE, layout, false, tf[1],
        new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", output, pooling, "", "");
  }

  private static List<BufferedImage> sampleImages() throws Exception {
    return List.of(
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg")), "cat.0.jpg"),
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/dog.1.jpg")), "dog.1.jpg"));
  }

  @Test
  void cutsTheGraphAtAnIntermediateValueAndEqualsAPlainJavaReference() throws Exception {
    TinyOnnx net = new TinyOnnx(7, SIDE, false);
    Path file = write("tiny.onnx", net.model(false));
    List<BufferedImage> images = sampleImages();

    BaseDeclaration vector = DeclaredBases.load(declare("tiny_vec", file, Layout.NCHW, "features", Pooling.NONE), conf);
    BaseDeclaration mapAvg = DeclaredBases.load(declare("tiny_avg", file, Layout.NCHW, "map", Pooling.AVG), conf);
    BaseDeclaration mapMax = DeclaredBases.load(declare("tiny_max", file, Layout.NCHW, "map", Pooling.MAX), conf);
    assertThat(vector.sha256()).hasSize(64).isEqualTo(DeclaredBases.sha256(Files.readAllBytes(file)));

    float[] nchw = vector.preprocessing().toNchw(images);
    try (ImageBase v = Bases.load("tiny_vec", "tensorflow");
        ImageBase a = Bases.load("tiny_avg", "dl4j");
        ImageBase m = Bases.load("tiny_max", "tensorflow")) {
      assertThat(v.engine()).isEqualTo("onnx"); // the format decides, not the engine asked for
      assertThat(v.featureSize()).isEqualTo(TinyOnnx.CHANNELS);
      float[][] fv = v.featurize(images);
      float[][] fa = a.featurize(images);
      float[][] fm = m.featurize(images);
      for (int i = 0; i < images.size(); i++) {
        float[] one = java.util.Arrays.copyOfRange(nchw, i * 3 * SIDE * SIDE, (i + 1) * 3 * SIDE * SIDE);
        assertThat(fv[i]).containsExactly(net.reference(one, SIDE, false), offset(1e-5f));
        assertThat(fa[i]).containsExactly(fv[i], offset(1e-5f)); // pooled here = GlobalAveragePool there
        assertThat(fm[i]).containsExactly(net.reference(one, SIDE, true), offset(1e-5f));
      }
      // the file-based path (what the featurize tasks run) gives the same vectors
      float[][] fromFiles = v.featurizeFiles(
          List.of(Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg")), Files.readAllBytes(Path.of("data/sample/train/dog.1.jpg"))),
          List.of("cat.0.jpg", "dog.1.jpg"));
      assertThat(fromFiles[1]).containsExactly(fv[1], offset(1e-6f));
    }
  }

  @Test
  void aStaticallyQuantizedQdqModelRunsAsABase() throws Exception {
    TinyOnnx net = new TinyOnnx(13, SIDE, false);
    BaseDeclaration d = DeclaredBases.load(declare("tiny_int8", write("int8.onnx", net.quantizedModel()),
        Layout.NCHW, "features", Pooling.NONE), conf);
    List<BufferedImage> images = sampleImages();
    float[] nchw = d.preprocessing().toNchw(images);
    try (ImageBase base = Bases.load(d.name(), "onnx")) {
      float[][] features = base.featurize(images);
      for (int i = 0; i < images.size(); i++) {
        float[] one = java.util.Arrays.copyOfRange(nchw, i * 3 * SIDE * SIDE, (i + 1) * 3 * SIDE * SIDE);
        float[] expected = net.quantizedReference(one, SIDE);
        // integer kernels round each map value to a step of their own: at most one step apart
        assertThat(features[i]).containsExactly(expected, offset(TinyOnnx.MAP_STEP * 1.01f));
        // and the quantization is real: the float network's features are further away somewhere
        float[] plain = net.reference(one, SIDE, false);
        assertThat(features[i]).isNotEqualTo(plain);
      }
    }
  }

  @Test
  void nhwcModelsAndDynamicSizesWork() throws Exception {
    TinyOnnx nhwc = new TinyOnnx(11, SIDE, true);
    TinyOnnx nchw = new TinyOnnx(11, SIDE, false);
    BaseDeclaration a = DeclaredBases.load(declare("tiny_nhwc", write("nhwc.onnx", nhwc.model(true)), Layout.NHWC, "features", Pooling.NONE), conf);
    BaseDeclaration b = DeclaredBases.load(declare("tiny_nchw", write("nchw.onnx", nchw.model(true)), Layout.NCHW, "features", Pooling.NONE), conf);
    List<BufferedImage> images = sampleImages();
    try (ImageBase x = Bases.load(a.name(), "onnx"); ImageBase y = Bases.load(b.name(), "onnx")) {
      assertThat(x.channelsLast()).isTrue();
      assertThat(x.featurize(images)[0]).containsExactly(y.featurize(images)[0], offset(1e-5f));
    }
  }

  @Test
  void anOutputNotInTheGraphNamesTheKeyAndTheNearestValues() throws Exception {
    Path file = write("tiny.onnx", new TinyOnnx(1, SIDE, false).model(false));
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_out", file, Layout.NCHW, "featurs", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.bad_out.output"))
        .hasMessageStartingWith("bottleneck.bases.bad_out.output: ")
        .hasMessageContaining("no value 'featurs'; nearest names: features,");
  }

  @Test
  void aLayoutThatContradictsTheInputIsRefusedWithAHint() throws Exception {
    Path file = write("nhwc.onnx", new TinyOnnx(1, SIDE, true).model(false));
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_layout", file, Layout.NCHW, "features", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.bad_layout.layout"))
        .hasMessageContaining("[-1, 32, 32, 3]")
        .hasMessageContaining("(it looks NHWC)");
  }

  @Test
  void aFixedInputSizeOtherThanTheDeclaredOneIsRefused() throws Exception {
    Path file = write("tiny48.onnx", new TinyOnnx(1, 48, false).model(false));
    assertThatThrownBy(() -> DeclaredBases.load(declare("bad_size", file, Layout.NCHW, "features", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.bad_size.input-size"))
        .hasMessageContaining("fixed at 48x48, not 32x32");
  }

  @Test
  void poolingMustFitTheOutputsRankAndTheOutputMustBeFloat() throws Exception {
    Path file = write("tiny.onnx", new TinyOnnx(1, SIDE, false).model(false));
    assertThatThrownBy(() -> DeclaredBases.load(declare("map_none", file, Layout.NCHW, "map", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.map_none.pooling"))
        .hasMessageContaining("set pooling = avg or max");
    assertThatThrownBy(() -> DeclaredBases.load(declare("vec_avg", file, Layout.NCHW, "features", Pooling.AVG), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.vec_avg.pooling"))
        .hasMessageContaining("set pooling = none");
    assertThatThrownBy(() -> DeclaredBases.load(declare("int_out", file, Layout.NCHW, "label", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.int_out.output"))
        .hasMessageContaining("not float");
  }

  @Test
  void aMissingOrNonOnnxFileNamesTheUri() throws Exception {
    assertThatThrownBy(() -> DeclaredBases.load(declare("gone", tmp.resolve("none.onnx"), Layout.NCHW, "features", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.gone.uri"))
        .hasMessageContaining("cannot read")
        .hasMessageContaining("none.onnx");
    Path jpeg = write("photo.onnx", Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg")));
    assertThatThrownBy(() -> DeclaredBases.load(declare("jpeg", jpeg, Layout.NCHW, "features", Pooling.NONE), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.jpeg.uri"))
        .hasMessageContaining("is not an ONNX model");
  }

  @Test
  void anotherModelFileUnderTheSameNameGetsAnotherPreprocessingIdAndNetwork() throws Exception {
    Path file = tmp.resolve("same.onnx");
    Files.write(file, new TinyOnnx(1, SIDE, false).model(false));
    BaseDeclaration first = DeclaredBases.load(declare("same_name", file, Layout.NCHW, "features", Pooling.NONE), conf);
    float[] before;
    List<BufferedImage> images = sampleImages();
    try (ImageBase b = Bases.load("same_name", "onnx")) {
      before = b.featurize(images)[0];
      assertThat(b.preprocessingId()).isEqualTo(first.preprocessing().id());
    }
    Files.write(file, new TinyOnnx(2, SIDE, false).model(false));
    BaseDeclaration second = DeclaredBases.load(declare("same_name", file, Layout.NCHW, "features", Pooling.NONE), conf);
    assertThat(second.preprocessing().id()).isNotEqualTo(first.preprocessing().id());
    assertThat(second.preprocessing().id()).contains("sha256-" + second.sha256().substring(0, 16));
    try (ImageBase b = Bases.load("same_name", "onnx")) {
      assertThat(b.featurize(images)[0]).isNotEqualTo(before);
    }
  }
}
