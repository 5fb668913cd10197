package io.bottleneck.export;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Json;
import io.bottleneck.io.ModelBundle;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.Preprocessing;
import io.bottleneck.nets.onnx.BuiltInOnnxGraphs;
import io.bottleneck.nets.onnx.OnnxEngine;
import io.bottleneck.nets.onnx.OnnxGraphBuilder;
import io.bottleneck.nets.onnx.OnnxModels;
import io.bottleneck.nets.onnx.OrtRuntime;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import onnx.Onnx;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A trained model bundle as one self-contained ONNX file that scores images as {@code predict}
 * does, for serving without Spark, the JVM or Bottleneck (ONNX Runtime in any language, Triton).
 *
 * <p>The graph: input {@value #INPUT}, uint8 {@code [N, S, S, 3]}, RGB, already resized to the
 * base's input side S the way Bottleneck resizes ({@link Preprocessing#resizedRgb}); with
 * {@link Tta#FLIP}, the batch and its mirror image side by side; a cast to float and, per base,
 * its preprocessing (channel order, scale and offset, layout); the base: a built-in network
 * ({@link BuiltInOnnxGraphs}), or without its last blocks for a fine-tuned model, or a declared
 * ONNX network cut at its declared output (names prefixed), pooled as declared, or the pixels
 * themselves; several bases' features concatenated in order; then the trained DL4J layers
 * ({@link HeadLayers}); with TTA the mean of the two halves' probabilities; output
 * {@value #OUTPUT}, float {@code [N, classes]}. The model's {@code metadata_props} say what the
 * input must be and name the classes, base, model and Bottleneck version.
 *
 * <p>Refused with {@link NotExportable}, saying why: a SavedModel base, bases of different input
 * sides, a declared model with external data, a layer or activation the export does not write.
 */
public final class OnnxExport {

  /** The graph input's name. */
  public static final String INPUT = "image";
  /** The graph output's name. */
  public static final String OUTPUT = "probabilities";
  /** How the input must be resized: what {@link Preprocessing#resizedRgb} does, in words. */
  public static final String RESIZE = "bilinear, half-pixel centres (PIL / TF2 resize without antialiasing),"
      + " no crop: the whole upright image (Exif orientation applied) squeezed to S x S,"
      + " each value rounded to the nearest integer";

  /** Test-time augmentation inside the graph. */
  public enum Tta {
    /** The image only. */
    NONE,
    /** The mean of the probabilities of the image and of its mirror image (as predict --tta flip). */
    FLIP;

    /** {@code none} or {@code flip}. */
    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Tta of(String key) {
      for (Tta t : values()) {
        if (t.key().equals(key)) {
          return t;
        }
      }
      throw new IllegalArgumentException("tta must be none or flip, not '" + key + "'");
    }
  }

  /** Why a model cannot be exported (the message says why and what to do). */
  public static final class NotExportable extends IllegalArgumentException {
    public NotExportable(String message) {
      super(message);
    }

    NotExportable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /**
   * An exported model.
   *
   * @param model the serialized ONNX model
   * @param inputSize S, the side of the input images
   * @param metadata the model's {@code metadata_props}
   */
  public record Exported(byte[] model, String modelId, String baseId, int inputSize, List<String> classes, Tta tta,
      Map<String, String> metadata) {}

  private OnnxExport() {}

  /**
   * Refuses averaging: several bundles are averaged by {@code predict}, but one export is one
   * bundle.
   */
  public static NotExportable averagingRefused(List<String> bundles) {
    return new NotExportable("Cannot export the average of " + bundles.size() + " models " + bundles
        + ": an export holds one model bundle; export each and average their probabilities where they are served");
  }

  /**
   * The ONNX model of {@code bundle}, checked by one ONNX Runtime pass over a blank image.
   *
   * @param version the Bottleneck version written into the metadata
   * @throws NotExportable saying why the bundle cannot be exported
   */
  public static Exported export(ModelBundle bundle, Tta tta, String version) {
    List<String> ids = List.of(bundle.baseId().split("\\+"));
    List<Member> members = new ArrayList<>();
    for (String id : ids) {
      members.add(member(id));
    }
    int size = members.get(0).preprocessing().size();
    for (Member m : members) {
      if (m.preprocessing().size() != size) {
        throw new NotExportable("Cannot export model " + bundle.modelId() + ": its bases take images of different"
            + " sides (" + String.join(", ", members.stream().map(b -> b.id() + " " + b.preprocessing().size()).toList())
            + "); an exported model takes one image size. Use bases of one input side (e.g. " + "squeezenet_1.1@224)");
      }
    }
    OnnxGraphBuilder g = new OnnxGraphBuilder("bottleneck");
    String image = g.input(INPUT, Onnx.TensorProto.DataType.UINT8, OnnxGraphBuilder.BATCH, size, size, 3);
    String batch = image;
    if (tta == Tta.FLIP) {
      String flipped = g.node("Slice", image, g.constant("flip_starts", new long[] {-1}, 1),
          g.constant("flip_ends", new long[] {Long.MIN_VALUE}, 1), g.constant("flip_axes", new long[] {2}, 1),
          g.constant("flip_steps", new long[] {-1}, 1)).name("flip").output();
      batch = g.node("Concat", image, flipped).name("image_and_flip").attr("axis", 0L).output();
    }
    String pixels = g.node("Cast", batch).name("to_float")
        .attr("to", (long) Onnx.TensorProto.DataType.FLOAT_VALUE).output();
    List<String> features = new ArrayList<>();
    for (int i = 0; i < members.size(); i++) {
      Member m = members.get(i);
      String input = preprocess(g, pixels, m, "base" + i);
      features.add(m.network().add(g, input, "base" + i + "/"));
    }
    String x = features.size() == 1 ? features.get(0)
        : g.node("Concat", features.toArray(String[]::new)).name("features").attr("axis", 1L).output();
    String probabilities;
    try {
      probabilities = HeadLayers.add(g, bundle.head(), x, bundle.featureSize());
    } catch (NotExportable e) {
      throw new NotExportable("Cannot export model " + bundle.modelId() + ": " + e.getMessage(), e);
    }
    int classes = bundle.classes().size();
    if (tta == Tta.FLIP) {
      // rows 0..N-1 are the images, N..2N-1 their mirror images
      String pairs = g.node("Reshape", probabilities, g.constant("tta_pairs", new long[] {2, -1, classes}, 3))
          .name("tta_pairs").output();
      String a = slice(g, pairs, 0, "tta_image");
      String b = slice(g, pairs, 1, "tta_flip");
      String sum = g.node("Add", a, b).name("tta_sum").output();
      String mean = g.node("Mul", sum, g.scalar("half", 0.5f)).name("tta_mean").output();
      probabilities = g.node("Reshape", mean, g.constant("tta_rows", new long[] {-1, classes}, 2))
          .name(OUTPUT).output(OUTPUT);
    } else {
      probabilities = g.node("Identity", probabilities).name(OUTPUT).output(OUTPUT);
    }
    g.output(probabilities, Onnx.TensorProto.DataType.FLOAT, OnnxGraphBuilder.BATCH, classes);
    Map<String, String> metadata = metadata(bundle, members, size, tta, version);
    metadata.forEach(g::metadata);
    g.describe(version, "Bottleneck model " + bundle.modelId() + " (base " + bundle.baseId() + "): input " + INPUT
        + " uint8 [N, " + size + ", " + size + ", 3] RGB resized " + RESIZE + "; output " + OUTPUT
        + " float [N, " + classes + "] in the order of metadata 'classes'");
    byte[] model;
    try {
      model = g.build().toByteArray();
    } catch (RuntimeException e) {
      throw new NotExportable("Cannot export model " + bundle.modelId() + ": the ONNX model cannot be serialized"
          + " (one protobuf file holds at most 2 GB): " + e.getMessage(), e);
    }
    check(model, bundle, size, classes);
    return new Exported(model, bundle.modelId(), bundle.baseId(), size, bundle.classes(), tta, metadata);
  }

  private static String slice(OnnxGraphBuilder g, String x, long at, String name) {
    return g.node("Slice", x, g.constant(name + "_start", new long[] {at}, 1),
        g.constant(name + "_end", new long[] {at + 1}, 1), g.constant(name + "_axis", new long[] {0}, 1))
        .name(name).output();
  }

  private static Map<String, String> metadata(ModelBundle bundle, List<Member> members, int size, Tta tta,
      String version) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("model_id", bundle.modelId());
    m.put("base", bundle.baseId());
    m.put("classes", Json.oneLine(bundle.classes()));
    m.put("bottleneck_version", version);
    m.put("input_size", Integer.toString(size));
    m.put("input", INPUT + ": uint8 [N, " + size + ", " + size + ", 3], RGB, channels last");
    m.put("resize", RESIZE);
    m.put("output", OUTPUT + ": float [N, " + bundle.classes().size() + "], the classes in the order of 'classes'");
    m.put("tta", tta.key());
    m.put("preprocessing", String.join("+", members.stream().map(p -> p.preprocessing().id()).toList()));
    m.put("created_at", bundle.createdAt());
    return m;
  }

  /** One ONNX Runtime pass of a blank image: the model loads and gives one probability row. */
  private static void check(byte[] model, ModelBundle bundle, int size, int classes) {
    try (OrtSession session = OrtRuntime.session(model);
        OnnxTensor input = OnnxTensor.createTensor(OrtRuntime.environment(), ByteBuffer.allocateDirect(size * size * 3),
            new long[] {1, size, size, 3}, OnnxJavaType.UINT8);
        OrtSession.Result result = session.run(Map.of(INPUT, input))) {
      FloatBuffer p = ((OnnxTensor) result.get(0)).getFloatBuffer();
      if (p.remaining() != classes) {
        throw new NotExportable("Cannot export model " + bundle.modelId() + ": the exported graph gives "
            + p.remaining() + " values per image for " + classes + " classes");
      }
    } catch (OrtException e) {
      throw new NotExportable("Cannot export model " + bundle.modelId() + ": ONNX Runtime cannot run the exported"
          + " graph (" + e.getMessage() + "); a declared model of an ONNX opset below "
          + OnnxGraphBuilder.OPSET + " may need converting (onnx.version_converter) first", e);
    }
  }

  // ------------------------------------------------------------------ bases

  /** Adds a base's network after its preprocessed input; returns its {@code [N, features]} value. */
  @FunctionalInterface
  private interface Network {
    String add(OnnxGraphBuilder g, String input, String prefix);
  }

  private record Member(String id, Preprocessing preprocessing, boolean channelsFirst, Network network) {}

  private static Member member(String id) {
    BaseDeclaration declared = DeclaredBases.get(id);
    if (declared != null) {
      return declaredMember(declared);
    }
    int pixels = Bases.pixelSize(id);
    if (pixels > 0) {
      // the CNN trained from scratch takes the pixels, [-1, 1], flattened NCHW
      return new Member(id, Preprocessing.plusMinusOne(pixels), true,
          (g, in, prefix) -> g.node("Flatten", in).name(prefix + "pixels").attr("axis", 1L).output());
    }
    try {
      if (!Bases.architecture(id).engines().containsKey(OnnxEngine.NAME)) {
        throw new NotExportable("Cannot export base '" + id + "': it has no ONNX graph");
      }
    } catch (IllegalArgumentException e) {
      if (e instanceof NotExportable n) {
        throw n;
      }
      throw new NotExportable("Cannot export base '" + id + "': " + e.getMessage()
          + " (a declared base must be registered: load its bundle)", e);
    }
    byte[] graph = BuiltInOnnxGraphs.write(id, Bases.weights(id));
    return new Member(id, BuiltInOnnxGraphs.inputPreprocessing(id), false, (g, in, prefix) -> {
      Map<String, String> values = g.embed(OnnxModels.parse(graph, id), prefix, Map.of(BuiltInOnnxGraphs.INPUT, in));
      return values.get(BuiltInOnnxGraphs.OUTPUT);
    });
  }

  private static Member declaredMember(BaseDeclaration d) {
    String id = d.name();
    if (d.format() != BaseDeclaration.Format.ONNX) {
      throw new NotExportable("Cannot export base '" + id + "': it is a declared " + d.format().key()
          + " network (format = " + d.format().key() + "), which cannot be merged into an ONNX file; convert it"
          + " to ONNX with tf2onnx (docs/bases.md), declare that with format = onnx and train again");
    }
    byte[] model = DeclaredBases.model(id);
    if (!DeclaredBases.dataFiles(id).isEmpty()) {
      throw new NotExportable("Cannot export base '" + id + "': its ONNX model keeps its weights in external data"
          + " files " + DeclaredBases.dataFiles(id) + "; one ONNX file holds at most 2 GB");
    }
    Onnx.ModelProto cut = OnnxModels.parse(OnnxModels.cutAt(model, d.output(), d.uri()), d.uri());
    List<String> inputs = new ArrayList<>();
    java.util.Set<String> initializers = new java.util.HashSet<>();
    cut.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
    cut.getGraph().getInputList().stream().map(Onnx.ValueInfoProto::getName)
        .filter(n -> !initializers.contains(n)).forEach(inputs::add);
    if (inputs.size() != 1) {
      throw new NotExportable("Cannot export base '" + id + "': its model has " + inputs.size() + " inputs " + inputs);
    }
    boolean nchw = d.layout() == BaseDeclaration.Layout.NCHW;
    return new Member(id, d.preprocessing(), nchw, (g, in, prefix) -> {
      Map<String, String> values;
      try {
        values = g.embed(cut, prefix, Map.of(inputs.get(0), in));
      } catch (IllegalArgumentException e) {
        throw new NotExportable("Cannot export base '" + id + "': " + e.getMessage(), e);
      }
      String out = values.get(d.output());
      if (d.pooling() == BaseDeclaration.Pooling.NONE) {
        return g.node("Flatten", out).name(prefix + "features").attr("axis", 1L).output();
      }
      if (!nchw) {
        out = g.node("Transpose", out).name(prefix + "output_nchw").attr("perm", 0, 3, 1, 2).output();
      }
      String pooled = g.node(d.pooling() == BaseDeclaration.Pooling.AVG ? "GlobalAveragePool" : "GlobalMaxPool", out)
          .name(prefix + "pool").output();
      return g.node("Flatten", pooled).name(prefix + "features").attr("axis", 1L).output();
    });
  }

  /**
   * A base's preprocessing on the float RGB NHWC pixels: channel order, {@code v * scale +
   * offset} per channel (as {@link Preprocessing} computes it), then its layout.
   */
  private static String preprocess(OnnxGraphBuilder g, String pixels, Member m, String prefix) {
    Preprocessing p = m.preprocessing();
    String x = pixels;
    if (p.bgr()) {
      x = g.node("Slice", x, g.constant(prefix + "_bgr_start", new long[] {-1}, 1),
          g.constant(prefix + "_bgr_end", new long[] {Long.MIN_VALUE}, 1), g.constant(prefix + "_bgr_axis", new long[] {3}, 1),
          g.constant(prefix + "_bgr_step", new long[] {-1}, 1)).name(prefix + "_bgr").output();
    }
    x = g.node("Mul", x, g.constant(prefix + "_scale", p.scale(), 3)).name(prefix + "_scale").output();
    x = g.node("Add", x, g.constant(prefix + "_offset", p.offset(), 3)).name(prefix + "_offset").output();
    if (m.channelsFirst()) {
      x = g.node("Transpose", x).name(prefix + "_nchw").attr("perm", 0, 3, 1, 2).output();
    }
    return x;
  }

  // ------------------------------------------------------------------ writing

  /**
   * Writes {@code model} to {@code uri} (any Hadoop file system) whole or not at all: into a
   * temporary file beside it, renamed at the end. An existing file is replaced only when
   * {@code overwrite}.
   *
   * @throws IllegalArgumentException when the file exists and {@code overwrite} is false
   */
  public static void write(byte[] model, String uri, boolean overwrite, Configuration conf) throws IOException {
    Path target = new Path(HadoopFiles.qualify(uri, conf));
    FileSystem fs = target.getFileSystem(conf);
    if (fs.exists(target)) {
      if (fs.getFileStatus(target).isDirectory()) {
        throw new IllegalArgumentException(uri + " is a directory; --output names the .onnx file to write");
      }
      if (!overwrite) {
        throw new IllegalArgumentException(uri + " already exists; pass --overwrite to replace it");
      }
    }
    if ("file".equals(target.toUri().getScheme())) {
      java.nio.file.Path file = java.nio.file.Path.of(URI.create(target.toUri().toString()));
      Files.createDirectories(file.toAbsolutePath().getParent());
      java.nio.file.Path part = Files.createTempFile(file.toAbsolutePath().getParent(), "." + file.getFileName(), ".part");
      try {
        Files.write(part, model);
        Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(part);
      }
      return;
    }
    Path part = new Path(target.getParent(), "." + target.getName() + "." + UUID.randomUUID() + ".part");
    try {
      try (OutputStream out = fs.create(part, false)) {
        out.write(model);
      }
      if (overwrite && fs.exists(target)) {
        fs.delete(target, false);
      }
      if (!fs.rename(part, target)) {
        throw new IOException("Cannot rename " + part + " to " + target);
      }
    } finally {
      if (fs.exists(part)) {
        fs.delete(part, false);
      }
    }
  }
}
