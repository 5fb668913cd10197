package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import io.bottleneck.io.Images;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.onnx.OnnxModels;
import io.bottleneck.testing.TinyOnnx;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Declared ONNX models in the external data format (tensor data in files beside the model, how
 * models over protobuf's 2 GB limit are stored): read from their folder, hashed with their data,
 * refused when a data file is missing or lies outside the folder.
 */
class ExternalDataTest {
  private static final int SIDE = 32;
  @TempDir Path tmp;
  private final Configuration conf = new Configuration();

  private static BaseDeclaration declare(String name, Path model) {
    float[] tf = BaseDeclaration.preset("tf");
    return new BaseDeclaration(name, Format.ONNX, model.toUri().toString(), SIDE, Layout.NCHW, false, tf[1],
        new float[] {1, 1, 1}, new float[] {1, 1, 1}, "tf", "features", Pooling.NONE, "", "");
  }

  private static List<BufferedImage> images() throws Exception {
    return List.of(
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/cat.0.jpg")), "cat.0.jpg"),
        Images.decode(Files.readAllBytes(Path.of("data/sample/train/dog.1.jpg")), "dog.1.jpg"));
  }

  /** The tiny model split into {@code dir/model.onnx} + {@code dir/<location>}. */
  private static Path split(byte[] model, Path dir, String location) throws Exception {
    Files.createDirectories(dir);
    Path file = dir.resolve("model.onnx");
    Files.write(file, TinyOnnx.withExternalData(model, dir, location));
    return file;
  }

  @Test
  void aModelWithExternalDataGivesTheSelfContainedModelsFeatures() throws Exception {
    byte[] model = new TinyOnnx(21, SIDE, false).model(false);
    Path whole = tmp.resolve("whole.onnx");
    Files.write(whole, model);
    Path file = split(model, tmp.resolve("split"), "weights/tiny.data");
    // the weights left the proto for the data file
    assertThat(OnnxModels.parse(Files.readAllBytes(file), "m").getGraph().getInitializerList())
        .allSatisfy(t -> assertThat(t.getRawData().isEmpty()).isTrue());
    assertThat(OnnxModels.externalDataFiles(Files.readAllBytes(file), "m")).containsExactly("weights/tiny.data");
    assertThat(OnnxModels.externalDataFiles(model, "m")).isEmpty();

    BaseDeclaration plain = DeclaredBases.load(declare("ext_plain", whole), conf);
    BaseDeclaration external = DeclaredBases.load(declare("ext_split", file), conf);
    // the hash covers the data files: the model's bytes alone do not decide it
    assertThat(external.sha256()).isNotEqualTo(DeclaredBases.sha256(Files.readAllBytes(file)))
        .isEqualTo(ModelFiles.sha256(Files.readAllBytes(file), file.getParent(), List.of("weights/tiny.data")));
    assertThat(DeclaredBases.dataFiles("ext_split")).containsExactly("weights/tiny.data");
    assertThat(DeclaredBases.dataFolder("ext_split").resolve("weights/tiny.data"))
        .hasSameBinaryContentAs(file.getParent().resolve("weights/tiny.data"));
    assertThat(DeclaredBases.dataFiles("ext_plain")).isEmpty();
    try (ImageBase a = Bases.load("ext_plain", "onnx"); ImageBase b = Bases.load("ext_split", "onnx")) {
      float[][] fa = a.featurize(images());
      float[][] fb = b.featurize(images());
      for (int i = 0; i < fa.length; i++) {
        assertThat(fb[i]).containsExactly(fa[i], offset(1e-6f));
      }
    }

    // another data file under the same name is another model: another hash, another network
    Path data = file.getParent().resolve("weights/tiny.data");
    byte[] changed = Files.readAllBytes(data);
    changed[0] ^= 0x40;
    Files.write(data, changed);
    BaseDeclaration again = DeclaredBases.load(declare("ext_split", file), conf);
    assertThat(again.sha256()).isNotEqualTo(external.sha256());
    assertThat(again.preprocessing().id()).isNotEqualTo(external.preprocessing().id());
  }

  @Test
  void registeringFromOtherFilesChecksTheirHash() throws Exception {
    byte[] model = new TinyOnnx(22, SIDE, false).model(false);
    Path file = split(model, tmp.resolve("a"), "tiny.data");
    BaseDeclaration d = DeclaredBases.load(declare("ext_check", file), conf);
    byte[] proto = Files.readAllBytes(file);
    // what an executor does with shipped files: gathered and checked against the declaration
    Path copy = split(new TinyOnnx(23, SIDE, false).model(false), tmp.resolve("b"), "tiny.data");
    BaseDeclaration elsewhere = d.withSha256(d.sha256().replace(d.sha256().charAt(0), d.sha256().charAt(0) == 'a' ? 'b' : 'a'));
    assertThatThrownBy(() -> DeclaredBases.register(elsewhere, Files.readAllBytes(copy),
            Map.of("tiny.data", ModelFiles.local(copy.getParent().resolve("tiny.data")))))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not the expected " + elsewhere.sha256());
    assertThatThrownBy(() -> DeclaredBases.register(elsewhere, proto, Map.of()))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("[tiny.data] were not given");
  }

  @Test
  void aMissingDataFileOrOneOutsideTheFolderIsRefusedNamingTheKey() throws Exception {
    byte[] model = new TinyOnnx(24, SIDE, false).model(false);
    Path file = split(model, tmp.resolve("m"), "tiny.data");
    Files.delete(file.getParent().resolve("tiny.data"));
    assertThatThrownBy(() -> DeclaredBases.load(declare("ext_missing", file), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.ext_missing.uri"))
        .hasMessageContaining("keeps tensor data in 'tiny.data'").hasMessageContaining("does not exist");

    Path outside = tmp.resolve("o/model.onnx");
    Files.createDirectories(outside.getParent());
    Files.write(outside, TinyOnnx.withExternalData(model, outside.getParent(), "../shared.data"));
    assertThatThrownBy(() -> DeclaredBases.load(declare("ext_outside", outside), conf))
        .isInstanceOfSatisfying(DeclaredBases.InvalidDeclaration.class, e -> assertThat(e.key()).isEqualTo("bases.ext_outside.uri"))
        .hasMessageContaining("keeps tensor data in '../shared.data'")
        .hasMessageContaining("must lie in the model's folder");
  }
}
