package io.bottleneck.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.bottleneck.nets.BaseDeclaration;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaseDeclarationsTest {
  @TempDir Path tmp;

  private JobConfig load(String conf, String... sets) throws Exception {
    File file = tmp.resolve("bases.conf").toFile();
    Files.writeString(file.toPath(), conf);
    return ConfigLoader.load(file, List.of(sets), Map.of());
  }

  private static final String RESNET = """
      bottleneck.bases.resnet {
        format = onnx
        uri = "hdfs:///models/resnet50.onnx"
        input-size = 224
        preprocessing = torch
        output = "features"
      }
      """;

  @Test
  void aDeclaredBaseIsSelectedByNameAloneOrInAnEnsemble() throws Exception {
    JobConfig cfg = load(RESNET + "bottleneck.base = resnet\n");
    assertThat(cfg.base).isEqualTo("resnet");
    BaseDeclaration d = cfg.bases.get("resnet");
    assertThat(d.format()).isEqualTo(BaseDeclaration.Format.ONNX);
    assertThat(d.uri()).isEqualTo("hdfs:///models/resnet50.onnx");
    assertThat(d.layout()).isEqualTo(BaseDeclaration.Layout.NCHW); // ONNX's default
    assertThat(d.pooling()).isEqualTo(BaseDeclaration.Pooling.AVG);
    assertThat(d.bgr()).isFalse();
    assertThat(d.mean()).containsExactly(0.485f, 0.456f, 0.406f);
    assertThat(d.std()).containsExactly(0.229f, 0.224f, 0.225f);
    assertThat(d.sha256()).isEmpty(); // the file is read by the command, before Spark starts

    assertThat(load(RESNET, "base=mobilenet_v1_0.25+resnet").base).isEqualTo("mobilenet_v1_0.25+resnet");
    // the effective configuration shows the declaration
    assertThat(cfg.effective.get("bases")).isEqualTo(Map.of("resnet", Map.of("format", "onnx",
        "uri", "hdfs:///models/resnet50.onnx", "input-size", 224, "preprocessing", "torch", "output", "features")));
  }

  @Test
  void presetsAndExplicitPreprocessingGiveTheDocumentedAffineMaps() throws Exception {
    JobConfig cfg = load("""
        bottleneck.bases.caffe_net { format = onnx, uri = "m.onnx", input-size = 227, preprocessing = caffe, output = "pool10", layout = NHWC, pooling = max }
        bottleneck.bases.own { format = onnx, uri = "m.onnx", input-size = 96, preprocessing = explicit, channels = BGR, scale = 0.5, mean = [1, 2, 3], std = [2, 4, 8], output = "x", pooling = none }
        """);
    BaseDeclaration caffe = cfg.bases.get("caffe_net");
    assertThat(caffe.bgr()).isTrue();
    assertThat(caffe.mean()).containsExactly(103.939f, 116.779f, 123.68f);
    assertThat(caffe.layout()).isEqualTo(BaseDeclaration.Layout.NHWC);
    assertThat(caffe.pooling()).isEqualTo(BaseDeclaration.Pooling.MAX);
    BaseDeclaration own = cfg.bases.get("own");
    assertThat(own.bgr()).isTrue();
    assertThat(own.scale()).isEqualTo(0.5f);
    assertThat(own.preprocessing().id()).startsWith("bgr-96-bilinear-explicit-s0.5-m1.0_2.0_3.0-d2.0_4.0_8.0-nchw-x-none-onnx");
    // tf: v / 127.5 - 1, torch: (v / 255 - mean) / std
    assertThat(load("bottleneck.bases.t { format = onnx, uri = m, input-size = 64, preprocessing = tf, output = o }")
        .bases.get("t").preprocessing().id()).startsWith("rgb-64-bilinear-tf-s0.007843138-m1.0_1.0_1.0-d1.0_1.0_1.0");
  }

  @Test
  void everyKeyOfADeclarationIsCheckedAndNamed() {
    String base = "format = onnx, uri = \"m.onnx\", input-size = 224, preprocessing = tf, output = f";
    assertThatThrownBy(() -> load("bottleneck.bases.x { " + base + ", outptu = g }"))
        .isInstanceOf(ConfigError.class)
        .hasMessageStartingWith("Unknown configuration key bottleneck.bases.x.outptu; a declared base has the keys channels, format,");
    assertThatThrownBy(() -> load("bottleneck.bases.x { format = tflite, uri = m, input-size = 224, preprocessing = tf, output = f }"))
        .hasMessage("Cannot set bottleneck.bases.x.format to tflite: the value must be onnx, savedmodel or keras");
    assertThatThrownBy(() -> load("bottleneck.bases.x { format = onnx, uri = m, input-size = 224, preprocessing = tf }"))
        .hasMessageStartingWith("Missing bottleneck.bases.x.output");
    assertThatThrownBy(() -> load("bottleneck.bases.x { format = onnx, uri = m, input-size = 8, preprocessing = tf, output = f }"))
        .hasMessage("Cannot set bottleneck.bases.x.input-size to 8: the value must be in [16, 2048] pixels");
    assertThatThrownBy(() -> load("bottleneck.bases.x { " + base + ", layout = CHW }"))
        .hasMessage("Cannot set bottleneck.bases.x.layout to CHW: the value must be NCHW or NHWC");
    assertThatThrownBy(() -> load("bottleneck.bases.x { " + base + ", pooling = sum }"))
        .hasMessage("Cannot set bottleneck.bases.x.pooling to sum: the value must be avg, max or none");
    assertThatThrownBy(() -> load("bottleneck.bases.x { format = onnx, uri = m, input-size = 224, preprocessing = inception, output = f }"))
        .hasMessageContaining("bottleneck.bases.x.preprocessing to inception: the value must be one of tf, torch, caffe (Keras' preprocess_input modes) or explicit");
    assertThatThrownBy(() -> load("bottleneck.bases.x { " + base + ", mean = [1, 2] }"))
        .hasMessage("Cannot set bottleneck.bases.x.mean with preprocessing = tf: channels, scale, mean and std go with preprocessing = explicit");
    assertThatThrownBy(() -> load("bottleneck.bases.x { format = onnx, uri = m, input-size = 224, preprocessing = explicit, std = [1, 0, 1], output = f }"))
        .hasMessageStartingWith("Cannot set bottleneck.bases.x.std to [1.0, 0.0, 1.0]: the value must be three positive numbers");
    assertThatThrownBy(() -> load("bottleneck.bases.x { " + base + ", signature = serving_default }"))
        .hasMessage("Cannot set bottleneck.bases.x.signature to serving_default: the value must be left out: only a savedmodel has signatures");
    assertThatThrownBy(() -> load("bottleneck.bases.\"squeezenet_1.1\" { " + base + " }"))
        .hasMessageContaining("a name other than a built-in base's");
    assertThatThrownBy(() -> load("bottleneck.bases.x = onnx"))
        .hasMessageStartingWith("Cannot set bottleneck.bases.x to onnx: the value must be an object of keys");
  }

  @Test
  void aBaseSpecNamingAnUndeclaredBaseListsTheDeclaredOnes() {
    assertThatThrownBy(() -> load(RESNET + "bottleneck.base = resnet50\n"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.base to resnet50: the value must be one of mobilenet_v2_1.0, mobilenet_v1_0.25, squeezenet_1.1,"
            + " the declared resnet, or several joined by '+' (an ensemble)");
    // a declared base has its own input size: no @size suffix
    assertThatThrownBy(() -> load(RESNET + "bottleneck.base = \"resnet@320\"\n"))
        .hasMessageStartingWith("Cannot set bottleneck.base to resnet@320");
  }

  @Test
  void fineTuningADeclaredBaseIsAConfigurationErrorThatSaysWhy() {
    assertThatThrownBy(() -> load(RESNET + "bottleneck.base = resnet\n", "fine-tune.blocks=1"))
        .isInstanceOf(ConfigError.class)
        .hasMessage("Cannot set bottleneck.fine-tune.blocks to 1: the value must be 0 with base resnet: fine-tuning applies"
            + " to built-in bases only, and resnet is declared in bottleneck.bases");
  }

  @Test
  void declarationsCanBeSetOnTheCommandLineKeyByKey() throws Exception {
    JobConfig cfg = load(RESNET, "bases.resnet.output=pool5", "bases.resnet.pooling=max");
    assertThat(cfg.bases.get("resnet").output()).isEqualTo("pool5");
    assertThat(cfg.bases.get("resnet").pooling()).isEqualTo(BaseDeclaration.Pooling.MAX);
  }
}
