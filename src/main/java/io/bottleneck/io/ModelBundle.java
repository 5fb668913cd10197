package io.bottleneck.io;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ModelFiles;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * A trained model as one directory: {@code head.zip} (the DL4J dense head) and
 * {@code bundle.json} (model id, base id, preprocessing, class names in output order, feature
 * size, training configuration, metrics). Everything needed to featurize and score new
 * images the way the model was trained.
 */
public record ModelBundle(
    String modelId,
    String baseId,
    String preprocessingId,
    int featureSize,
    List<String> classes,
    MultiLayerNetwork head,
    Map<String, Object> training,
    Map<String, Object> metrics,
    String createdAt) {

  public static final int FORMAT_VERSION = 1;
  public static final String HEAD_FILE = "head.zip";
  public static final String META_FILE = "bundle.json";
  /** Folder of the model files of declared bases: {@code bases/<name>/model.<format>} (a SavedModel zipped). */
  public static final String BASES_DIR = "bases";

  public ModelBundle {
    classes = List.copyOf(classes);
    training = training == null ? Map.of() : training;
    metrics = metrics == null ? Map.of() : metrics;
  }

  /** A new bundle; its id is derived from the weights, classes and base, so it is stable. */
  public static ModelBundle create(
      String baseId,
      String preprocessingId,
      int featureSize,
      List<String> classes,
      MultiLayerNetwork head,
      Map<String, Object> training,
      Map<String, Object> metrics) {
    return new ModelBundle(
        modelId(baseId, preprocessingId, classes, head),
        baseId,
        preprocessingId,
        featureSize,
        classes,
        head,
        training,
        metrics,
        Instant.now().toString());
  }

  public ModelBundle withMetrics(Map<String, Object> newMetrics) {
    return new ModelBundle(
        modelId, baseId, preprocessingId, featureSize, classes, head, training, newMetrics, createdAt);
  }

  static String modelId(
      String baseId, String preprocessingId, List<String> classes, MultiLayerNetwork head) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update((baseId + "\n" + preprocessingId + "\n" + String.join("\n", classes)).getBytes(StandardCharsets.UTF_8));
      float[] params = head.params().toFloatVector();
      ByteBuffer buf = ByteBuffer.allocate(params.length * 4);
      for (float p : params) {
        buf.putFloat(p);
      }
      sha.update(buf.array());
      return baseId.replaceAll("[^a-z0-9]", "") + "-" + HexFormat.of().formatHex(sha.digest()).substring(0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Writes the bundle into {@code dirUri}, which must not hold a bundle already: as Spark ML's
   * {@code save()}, only {@link #save(String, Configuration, boolean)} with overwrite replaces one.
   *
   * @throws IllegalArgumentException if {@code dirUri} holds a {@value #META_FILE}
   */
  public void save(String dirUri, Configuration conf) throws IOException {
    save(dirUri, conf, false);
  }

  /**
   * Writes the bundle into {@code dirUri}. With {@code overwrite}, the directory is deleted first,
   * whatever it holds, so no file of an older bundle remains; without it, a directory that already
   * holds a bundle ({@value #META_FILE}) is refused and nothing is deleted.
   *
   * @throws IllegalArgumentException without overwrite, if {@code dirUri} holds a {@value #META_FILE}
   */
  public void save(String dirUri, Configuration conf, boolean overwrite) throws IOException {
    if (overwrite) {
      HadoopFiles.deleteRecursively(dirUri, conf);
    } else if (HadoopFiles.exists(HadoopFiles.child(dirUri, META_FILE), conf)) {
      throw new IllegalArgumentException(
          "A model bundle already exists at " + dirUri + " (it has a " + META_FILE + "): choose"
              + " another directory, delete it, or save with overwrite (save(uri, conf, true))");
    }
    ByteArrayOutputStream headBytes = new ByteArrayOutputStream();
    ModelSerializer.writeModel(head, headBytes, false);
    HadoopFiles.writeBytes(HadoopFiles.child(dirUri, HEAD_FILE), headBytes.toByteArray(), conf);
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("format_version", FORMAT_VERSION);
    meta.put("model_id", modelId);
    meta.put("base", baseId);
    meta.put("preprocessing", preprocessingId);
    meta.put("feature_size", featureSize);
    meta.put("classes", classes);
    meta.put("created_at", createdAt);
    meta.put("training", training);
    meta.put("metrics", metrics);
    Map<String, Object> declared = saveDeclaredBases(dirUri, conf);
    if (!declared.isEmpty()) {
      meta.put("declared_bases", declared);
    }
    HadoopFiles.writeString(HadoopFiles.child(dirUri, META_FILE), Json.pretty(meta), conf);
  }

  /**
   * As {@link #load(String, Configuration)}, with the session's Hadoop settings; {@code uri} may
   * be a local path without scheme (it is qualified first, as the commands' --model).
   */
  public static ModelBundle load(String uri, SparkSession spark) throws IOException {
    return load(HadoopFiles.qualify(uri, spark), spark.sparkContext().hadoopConfiguration());
  }

  /** Reads a bundle written by {@link #save}; errors name the directory and the file. */
  @SuppressWarnings("unchecked")
  public static ModelBundle load(String dirUri, Configuration conf) throws IOException {
    String metaUri = HadoopFiles.child(dirUri, META_FILE);
    if (!HadoopFiles.exists(metaUri, conf)) {
      throw new IllegalArgumentException(
          "Not a model bundle: " + dirUri + " has no " + META_FILE + " (write one with train or pipeline)");
    }
    Map<String, Object> meta = Json.parseObject(HadoopFiles.readString(metaUri, conf), metaUri);
    Object version = meta.get("format_version");
    if (!(version instanceof Number) || ((Number) version).intValue() != FORMAT_VERSION) {
      throw new IllegalArgumentException(
          metaUri + ": format_version " + version + " is not supported (expected " + FORMAT_VERSION + ")");
    }
    loadDeclaredBases(dirUri, meta, metaUri, conf);
    MultiLayerNetwork head;
    try (var in = new ByteArrayInputStream(HadoopFiles.readBytes(HadoopFiles.child(dirUri, HEAD_FILE), conf))) {
      head = ModelSerializer.restoreMultiLayerNetwork(in, false);
    }
    return new ModelBundle(
        required(meta, "model_id", metaUri).toString(),
        required(meta, "base", metaUri).toString(),
        required(meta, "preprocessing", metaUri).toString(),
        ((Number) required(meta, "feature_size", metaUri)).intValue(),
        new ArrayList<>((List<String>) required(meta, "classes", metaUri)),
        head,
        (Map<String, Object>) meta.getOrDefault("training", Map.of()),
        (Map<String, Object>) meta.getOrDefault("metrics", Map.of()),
        String.valueOf(meta.get("created_at")));
  }

  /**
   * Copies the model file of each declared base of {@link #baseId} into the bundle, so the bundle
   * alone scores new images after the original file moved; returns their declarations.
   */
  private Map<String, Object> saveDeclaredBases(String dirUri, Configuration conf) throws IOException {
    Map<String, Object> out = new LinkedHashMap<>();
    for (String id : baseId.split("\\+")) {
      BaseDeclaration d = DeclaredBases.get(id);
      if (d == null) {
        continue;
      }
      byte[] model;
      try {
        model = DeclaredBases.model(id);
      } catch (IllegalStateException e) {
        throw new IllegalStateException("Cannot bundle declared base " + id + ": its model file is not loaded"
            + " in this job (declare it in the --conf and name it in base)", e);
      }
      String file = BASES_DIR + "/" + id + "/" + d.format().bundleFile();
      HadoopFiles.writeBytes(HadoopFiles.child(dirUri, file), model, conf);
      // ONNX external data: each file at its location beside the model, as ONNX Runtime reads it
      for (String location : DeclaredBases.dataFiles(id)) {
        HadoopFiles.copyFromLocal(DeclaredBases.dataFolder(id).resolve(location),
            HadoopFiles.child(HadoopFiles.child(dirUri, BASES_DIR + "/" + id), location), conf);
      }
      out.put(id, d.withUri(file).toMap());
    }
    return out;
  }

  /** Registers the declared bases a bundle carries, with the model files it holds. */
  @SuppressWarnings("unchecked")
  private static void loadDeclaredBases(String dirUri, Map<String, Object> meta, String metaUri, Configuration conf)
      throws IOException {
    Object declared = meta.get("declared_bases");
    if (!(declared instanceof Map)) {
      return;
    }
    for (Map.Entry<String, Object> e : ((Map<String, Object>) declared).entrySet()) {
      BaseDeclaration d = BaseDeclaration.fromMap(e.getKey(), (Map<String, Object>) e.getValue(), metaUri);
      String file = HadoopFiles.child(dirUri, d.uri());
      byte[] model = HadoopFiles.readBytes(file, conf);
      Map<String, ModelFiles.Source> data = d.format() == BaseDeclaration.Format.ONNX
          ? DeclaredBases.dataFilesBeside(file, model, conf) : Map.of();
      if (data.isEmpty() && !DeclaredBases.sha256(model).equals(d.sha256())) {
        throw new IllegalArgumentException(file + ": the model file of declared base " + d.name()
            + " does not have the SHA-256 its bundle recorded (" + d.sha256() + ")");
      }
      try {
        DeclaredBases.register(d.withUri(file), model, data);
      } catch (IllegalArgumentException mismatch) {
        throw new IllegalArgumentException(file + ": declared base " + d.name() + " with its data files "
            + data.keySet() + " does not have the SHA-256 its bundle recorded (" + d.sha256() + "): "
            + mismatch.getMessage(), mismatch);
      }
    }
  }

  private static Object required(Map<String, Object> meta, String key, String source) {
    Object v = meta.get(key);
    if (v == null) {
      throw new IllegalArgumentException(source + ": missing key " + key);
    }
    return v;
  }
}
