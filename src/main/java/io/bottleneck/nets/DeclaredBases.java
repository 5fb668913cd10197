package io.bottleneck.nets;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.io.Sha256;
import io.bottleneck.nets.BaseDeclaration.Format;
import io.bottleneck.nets.BaseDeclaration.Layout;
import io.bottleneck.nets.BaseDeclaration.Pooling;
import io.bottleneck.nets.onnx.OnnxBase;
import io.bottleneck.nets.onnx.OnnxModels;
import io.bottleneck.nets.tf.SavedModelBase;
import io.bottleneck.nets.tf.SavedModels;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;

/**
 * The bases declared in this JVM ({@code bottleneck.bases.<name>}), by name. The driver
 * registers each used declaration with its model file's bytes after {@link #load checking it};
 * executors register the declaration alone (it travels with the featurize tasks) and build the
 * network from the broadcast bytes.
 */
public final class DeclaredBases {

  private static final Map<String, BaseDeclaration> DECLARED = new ConcurrentHashMap<>();
  private static final Map<String, byte[]> MODELS = new ConcurrentHashMap<>();
  private static final Map<String, Integer> FEATURE_SIZES = new ConcurrentHashMap<>();
  /** The local folders of ONNX external data files, by the declaration's SHA-256. */
  private static final Map<String, ModelFiles.Folder> DATA = new ConcurrentHashMap<>();

  private DeclaredBases() {}

  /** Thrown when a declaration does not match its model; {@link #key()} is the key at fault. */
  public static final class InvalidDeclaration extends IllegalArgumentException {
    private final String key;

    InvalidDeclaration(BaseDeclaration d, String field, String message, Throwable cause) {
      super("bottleneck.bases." + d.name() + "." + field + ": " + message, cause);
      this.key = "bases." + d.name() + "." + field;
    }

    public String key() {
      return key;
    }
  }

  /** Whether {@code name} is a declared base in this JVM. */
  public static boolean isDeclared(String name) {
    return DECLARED.containsKey(name);
  }

  /** The declared names. */
  public static Set<String> names() {
    return new TreeSet<>(DECLARED.keySet());
  }

  /** The declaration of {@code name}, or null. */
  public static BaseDeclaration get(String name) {
    return DECLARED.get(name);
  }

  /**
   * Registers a checked declaration with its model's bytes (the driver, a bundle's loader). A
   * model with external data must have had its data files gathered (by {@link #load} or {@link
   * #register(BaseDeclaration, byte[], Map)}).
   */
  public static void register(BaseDeclaration d, byte[] model) {
    register(d, model, Map.of());
  }

  /**
   * Registers a checked declaration with its model's bytes and, for an ONNX model with external
   * data, where each data file comes from (by location); they are gathered into a local folder
   * and must have, with the model, the declaration's SHA-256.
   */
  public static void register(BaseDeclaration d, byte[] model, Map<String, ModelFiles.Source> dataFiles) {
    if (d.sha256().isEmpty()) {
      throw new IllegalArgumentException(d + " has no model hash: load it first");
    }
    List<String> data = d.format() == Format.ONNX ? OnnxModels.externalDataFiles(model, d.uri()) : List.of();
    if (data.isEmpty() && !sha256(model).equals(d.sha256())) {
      throw new IllegalArgumentException(d + ": the model's bytes do not have the declared SHA-256 " + d.sha256());
    }
    if (!data.isEmpty() && !DATA.containsKey(d.sha256())) {
      if (!dataFiles.keySet().containsAll(data)) {
        throw new IllegalStateException(d + ": the model keeps tensor data in " + data
            + ", of which " + data.stream().filter(l -> !dataFiles.containsKey(l)).toList() + " were not given");
      }
      DATA.put(d.sha256(), ModelFiles.folder(model, dataFiles, d.sha256()));
    }
    MODELS.put(d.name(), model);
    DECLARED.put(d.name(), d);
  }

  /**
   * The external data files of an ONNX model at {@code modelUri}, each read from the same
   * relative location beside it on its Hadoop file system; empty for a self-contained model.
   */
  public static Map<String, ModelFiles.Source> dataFilesBeside(String modelUri, byte[] model, Configuration conf) {
    Map<String, ModelFiles.Source> sources = new java.util.TreeMap<>();
    for (String location : OnnxModels.externalDataFiles(model, modelUri)) {
      String uri = HadoopFiles.child(HadoopFiles.parent(modelUri), location);
      java.net.URI parsed = java.net.URI.create(uri.replace(" ", "%20"));
      // a local file is linked, not copied: external data is what makes a model large
      sources.put(location, "file".equals(parsed.getScheme())
          ? ModelFiles.local(java.nio.file.Path.of(parsed)) : ModelFiles.hadoop(uri, conf));
    }
    return sources;
  }

  /**
   * The external data files of a registered declared ONNX base (locations relative to its
   * model), empty for a self-contained model or another format.
   */
  public static List<String> dataFiles(String name) {
    BaseDeclaration d = DECLARED.get(name);
    return d == null || d.format() != Format.ONNX || !MODELS.containsKey(name)
        ? List.of() : OnnxModels.externalDataFiles(MODELS.get(name), d.uri());
  }

  /** The local folder holding {@link #dataFiles} of a registered base; null when it has none. */
  public static java.nio.file.Path dataFolder(String name) {
    BaseDeclaration d = DECLARED.get(name);
    ModelFiles.Folder folder = d == null ? null : DATA.get(d.sha256());
    return folder == null ? null : folder.path();
  }

  /**
   * Registers a declaration whose model bytes arrive another way (an executor: the broadcast).
   * A declaration of the same name with another hash replaces the earlier one, and the bytes
   * of the earlier one are forgotten.
   */
  public static void register(BaseDeclaration d) {
    BaseDeclaration before = DECLARED.put(d.name(), d);
    if (before != null && !before.sha256().equals(d.sha256())) {
      MODELS.remove(d.name());
    }
  }

  /** Whether the model of {@code name} is registered with its bytes in this JVM. */
  public static boolean hasModel(String name) {
    return MODELS.containsKey(name);
  }

  /** The model file of a base registered with its bytes. */
  public static byte[] model(String name) {
    byte[] bytes = MODELS.get(name);
    if (bytes == null) {
      throw new IllegalStateException("The model of declared base '" + name + "' is not loaded in this JVM");
    }
    return bytes;
  }

  /** The engine a declared base runs on: its format decides, not {@code featurize.engine}. */
  public static String engine(BaseDeclaration d) {
    return switch (d.format()) {
      case ONNX -> OnnxBase.ENGINE;
      case SAVEDMODEL -> SavedModelBase.ENGINE;
      case KERAS -> "dl4j";
    };
  }

  /** A pool key that changes with the model file. */
  public static String poolKey(BaseDeclaration d) {
    return d.name() + "#" + d.sha256();
  }

  /** Builds the network of a declared base from its model bytes. */
  public static ImageBase build(BaseDeclaration d, byte[] model) {
    if (d.format() == Format.SAVEDMODEL) {
      Integer known = FEATURE_SIZES.get(poolKey(d));
      String hash = d.sha256().isEmpty() ? sha256(model) : d.sha256();
      return new SavedModelBase(d.name(), poolKey(d), SavedModels.unpacked(model, hash), d.signature(),
          d.output(), d.preprocessing(), d.layout() == Layout.NHWC, d.pooling(), known == null ? -1 : known);
    }
    if (d.format() != Format.ONNX) {
      throw unsupportedFormat(d);
    }
    Integer known = FEATURE_SIZES.get(poolKey(d));
    return onnxBase(d, OnnxModels.cutAt(model, d.output(), d.uri()), known == null ? -1 : known);
  }

  /**
   * The ONNX Runtime network of a cut model: from its bytes, or for a model with external data
   * from a file written beside its gathered data files (ONNX Runtime reads them from the model
   * file's folder).
   */
  private static OnnxBase onnxBase(BaseDeclaration d, byte[] cut, int featureSize) {
    ModelFiles.Folder data = DATA.get(d.sha256());
    if (data == null) {
      return new OnnxBase(d.name(), poolKey(d), cut, d.preprocessing(), d.layout() == Layout.NHWC,
          d.pooling(), featureSize);
    }
    java.nio.file.Path file = data.path().resolve(".cut-" + sha256(cut).substring(0, 16) + ".onnx");
    try {
      if (!java.nio.file.Files.exists(file)) {
        java.nio.file.Path part = java.nio.file.Files.createTempFile(data.path(), ".cut-", ".part");
        java.nio.file.Files.write(part, cut);
        java.nio.file.Files.move(part, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("Cannot write the cut model of " + d + " into " + data.path(), e);
    }
    return new OnnxBase(d.name(), poolKey(d), file, d.preprocessing(), d.layout() == Layout.NHWC,
        d.pooling(), featureSize);
  }

  /**
   * Reads a declaration's model file, checks the declaration against it, and registers both:
   * the format, the file, that {@code output} names a value of the graph (else the nearest
   * names), that the input's rank, layout and size agree with the declaration, that the output
   * is float and that {@code pooling} fits its rank; then one forward pass of a blank image. A
   * SavedModel directory is {@link SavedModels#pack packed} into one byte array first; its
   * {@code signature} must exist and {@code output} name one of its outputs or an operation.
   *
   * @return the declaration with the model's SHA-256
   * @throws InvalidDeclaration naming the key at fault
   */
  public static BaseDeclaration load(BaseDeclaration d, Configuration hadoopConf) {
    if (d.format() == Format.KERAS) {
      throw new InvalidDeclaration(d, "format", unsupportedFormat(d).getMessage(), null);
    }
    byte[] model;
    try {
      model = d.format() == Format.SAVEDMODEL
          ? SavedModels.pack(d.uri(), hadoopConf)
          : HadoopFiles.readBytes(d.uri(), hadoopConf);
    } catch (SavedModels.NotSavedModelException e) {
      throw new InvalidDeclaration(d, "uri", e.getMessage() + " (format = savedmodel)", e);
    } catch (IOException | RuntimeException e) {
      throw new InvalidDeclaration(d, "uri", "cannot read " + d.uri() + ": " + e.getMessage(), e);
    }
    String hash = sha256(model);
    if (d.format() == Format.ONNX) {
      hash = gatherExternalData(d, model, hadoopConf);
    }
    BaseDeclaration hashed = d.withSha256(hash);
    check(hashed, model);
    register(hashed, model);
    return hashed;
  }

  /**
   * For an ONNX model with external data: gathers its data files (read beside the model) into a
   * local folder and returns the SHA-256 of the model with them; for a self-contained one, the
   * SHA-256 of its bytes.
   */
  private static String gatherExternalData(BaseDeclaration d, byte[] model, Configuration conf) {
    Map<String, ModelFiles.Source> sources;
    try {
      sources = dataFilesBeside(d.uri(), model, conf);
    } catch (OnnxModels.NotOnnxException e) {
      throw new InvalidDeclaration(d, "uri", e.getMessage() + " (format = onnx)", e);
    } catch (IllegalArgumentException e) {
      throw new InvalidDeclaration(d, "uri", e.getMessage(), e);
    }
    if (sources.isEmpty()) {
      return sha256(model);
    }
    for (String location : sources.keySet()) {
      String uri = HadoopFiles.child(HadoopFiles.parent(d.uri()), location);
      try {
        if (!HadoopFiles.exists(uri, conf)) {
          throw new InvalidDeclaration(d, "uri", d.uri() + " keeps tensor data in '" + location
              + "', but " + uri + " does not exist: copy the model's data files along with it", null);
        }
      } catch (IOException e) {
        throw new InvalidDeclaration(d, "uri", "cannot read " + uri + ": " + e.getMessage(), e);
      }
    }
    try {
      ModelFiles.Folder folder = ModelFiles.folder(model, sources, null);
      DATA.put(folder.sha256(), folder);
      return folder.sha256();
    } catch (java.io.UncheckedIOException e) {
      throw new InvalidDeclaration(d, "uri", "cannot read the data files of " + d.uri() + ": " + e.getMessage(), e);
    }
  }

  /** {@link #load}'s checks on bytes already read. */
  static void check(BaseDeclaration d, byte[] model) {
    if (d.format() == Format.SAVEDMODEL) {
      checkSavedModel(d, model);
      return;
    }
    byte[] cut;
    try {
      cut = OnnxModels.cutAt(model, d.output(), d.uri());
    } catch (OnnxModels.NoSuchValueException e) {
      throw new InvalidDeclaration(d, "output", e.getMessage(), e);
    } catch (OnnxModels.NotOnnxException e) {
      throw new InvalidDeclaration(d, "uri", e.getMessage() + " (format = onnx)", e);
    }
    // built with an explicit pooling check below: the network's own checks come after
    OnnxBase base;
    try {
      base = onnxBase(d, cut, 1);
    } catch (IllegalArgumentException e) {
      throw new InvalidDeclaration(d, "uri", e.getMessage(), e);
    }
    try (base) {
      checkInput(d, base.inputName(), base.inputInfo());
      checkOutput(d, base.outputName(), base.outputInfo());
      // the real feature length, from a forward pass on the same session
      try {
        FEATURE_SIZES.put(poolKey(d), base.probeFeatureSize());
      } catch (IllegalStateException | IllegalArgumentException e) {
        throw new InvalidDeclaration(d, "output", "a forward pass of a blank " + d.inputSize() + "x"
            + d.inputSize() + " image failed: " + e.getMessage(), e);
      }
    } catch (OrtException e) {
      throw new InvalidDeclaration(d, "uri", "ONNX Runtime cannot describe the model: " + e.getMessage(), e);
    }
  }

  /** The SavedModel checks of {@link #load}: signature, output, input, pooling, a forward pass. */
  private static void checkSavedModel(BaseDeclaration d, byte[] packed) {
    SavedModelBase base;
    try {
      base = new SavedModelBase(d.name(), poolKey(d), SavedModels.unpacked(packed, d.sha256()),
          d.signature(), d.output(), d.preprocessing(), d.layout() == Layout.NHWC, d.pooling(), 1);
    } catch (SavedModelBase.MismatchException e) {
      throw new InvalidDeclaration(d, e.field(), e.getMessage(), e);
    } catch (RuntimeException e) {
      throw new InvalidDeclaration(d, "uri", "cannot load the SavedModel: " + e.getMessage(), e);
    }
    try (base) {
      checkInput(d, base.inputName(), base.inputType().name(),
          base.inputType() == org.tensorflow.proto.framework.DataType.DT_FLOAT, base.inputShape());
      checkOutput(d, base.outputName(), base.outputType().name(),
          base.outputType() == org.tensorflow.proto.framework.DataType.DT_FLOAT, base.outputShape());
      try {
        FEATURE_SIZES.put(poolKey(d), base.probeFeatureSize());
      } catch (IllegalStateException | IllegalArgumentException e) {
        if (String.valueOf(e.getMessage()).contains("Could not find variable")) {
          String what = newerThanTf210(base.writtenBy())
              ? "was written by a newer TensorFlow (" + base.writtenBy() + ") whose variables"
                  + " TensorFlow Java 0.5.0 (TensorFlow 2.10) cannot restore"
              : "has variables that TensorFlow Java 0.5.0 (TensorFlow 2.10) did not restore"
                  + (base.writtenBy().isEmpty() ? "" : " (written by TensorFlow " + base.writtenBy() + ")");
          throw new InvalidDeclaration(d, "uri", "the SavedModel at " + d.uri() + " " + what
              + ": its first run fails with \"" + firstLine(e.getMessage()) + "\". Export a frozen"
              + " graph (a TF1-style SavedModel whose weights are constants) or convert the model to"
              + " ONNX with tf2onnx and declare format = onnx", e);
        }
        throw new InvalidDeclaration(d, "output", "a forward pass of a blank " + d.inputSize() + "x"
            + d.inputSize() + " image failed: " + e.getMessage(), e);
      }
    }
  }

  /** Whether a TensorFlow version string ({@code 2.21.0}) is after 2.10. */
  static boolean newerThanTf210(String version) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)").matcher(version);
    if (!m.lookingAt()) {
      return false;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    return major > 2 || (major == 2 && minor > 10);
  }

  private static String firstLine(String message) {
    String m = String.valueOf(message);
    int at = m.indexOf("Could not find variable");
    m = at >= 0 ? m.substring(at) : m;
    int end = m.indexOf('.');
    return end > 0 ? m.substring(0, end) : m.lines().findFirst().orElse(m);
  }

  private static void checkInput(BaseDeclaration d, String name, TensorInfo info) {
    checkInput(d, name, String.valueOf(info.type), info.type == ai.onnxruntime.OnnxJavaType.FLOAT,
        info.getShape());
  }

  /** The input's checks; {@code shape} null when its rank is unknown. */
  private static void checkInput(BaseDeclaration d, String name, String type, boolean isFloat, long[] shape) {
    if (!isFloat) {
      throw new InvalidDeclaration(d, "uri", "input '" + name + "' is " + type
          + "; Bottleneck feeds float images", null);
    }
    if (shape == null) {
      return; // any rank: the forward pass decides
    }
    if (shape.length != 4) {
      throw new InvalidDeclaration(d, "layout", "input '" + name + "' has rank " + shape.length + " "
          + Arrays.toString(shape) + "; an image input is 4-D (NCHW or NHWC)", null);
    }
    boolean nchw = d.layout() == Layout.NCHW;
    long channels = nchw ? shape[1] : shape[3];
    long h = nchw ? shape[2] : shape[1];
    long w = nchw ? shape[3] : shape[2];
    if (channels >= 0 && channels != 3) {
      long other = nchw ? shape[3] : shape[1];
      String hint = other == 3 ? " (it looks " + (nchw ? "NHWC" : "NCHW") + ")" : "";
      throw new InvalidDeclaration(d, "layout", "input '" + name + "' has shape "
          + Arrays.toString(shape) + ": " + channels + " channels where layout " + d.layout()
          + " puts them, not 3" + hint, null);
    }
    if ((h >= 0 && h != d.inputSize()) || (w >= 0 && w != d.inputSize())) {
      throw new InvalidDeclaration(d, "input-size", "input '" + name + "' has shape "
          + Arrays.toString(shape) + ", fixed at " + h + "x" + w + ", not " + d.inputSize() + "x"
          + d.inputSize(), null);
    }
  }

  private static void checkOutput(BaseDeclaration d, String name, TensorInfo info) {
    checkOutput(d, name, String.valueOf(info.type), info.type == ai.onnxruntime.OnnxJavaType.FLOAT,
        info.getShape());
  }

  /** The output's checks; {@code shape} null when its rank is unknown. */
  private static void checkOutput(BaseDeclaration d, String name, String type, boolean isFloat, long[] shape) {
    if (!isFloat) {
      throw new InvalidDeclaration(d, "output", "'" + name + "' is " + type
          + ", not float: features are float vectors", null);
    }
    if (shape == null) {
      return; // any rank: the forward pass decides
    }
    int rank = shape.length;
    if (rank == 2 && d.pooling() != Pooling.NONE) {
      throw new InvalidDeclaration(d, "pooling", "'" + name + "' is 2-D "
          + Arrays.toString(shape) + ", already one vector per image: set pooling = none", null);
    }
    if (rank == 4 && d.pooling() == Pooling.NONE) {
      throw new InvalidDeclaration(d, "pooling", "'" + name + "' is a 4-D map "
          + Arrays.toString(shape) + ": set pooling = avg or max", null);
    }
    if (rank != 2 && rank != 4 && rank != 0) {
      throw new InvalidDeclaration(d, "output", "'" + name + "' has shape "
          + Arrays.toString(shape) + "; a feature tensor is [N, features] or a 4-D map", null);
    }
  }

  private static IllegalArgumentException unsupportedFormat(BaseDeclaration d) {
    return new IllegalArgumentException("format " + d.format().key() + " of " + d
        + " is not supported: DL4J's KerasModelImport handles a limited set of Keras layers, and"
        + " Bottleneck cannot test a Keras full-model .h5 (none can be made without Python and"
        + " Keras); convert the model to ONNX with tf2onnx (format = onnx) or save it as a"
        + " SavedModel (format = savedmodel)");
  }

  /** Hex SHA-256 of bytes. */
  public static String sha256(byte[] bytes) {
    return Sha256.hex(bytes);
  }
}
