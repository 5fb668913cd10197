package io.bottleneck.features;

import io.bottleneck.io.HadoopFiles;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.nets.ModelFiles;
import io.bottleneck.nets.tf.SavedModels;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkFiles;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the model of a base reaches the executors. Built-in weights (14 MB at most) and a declared
 * model up to {@value #BROADCAST_LIMIT} (default 256m) travel as one broadcast byte array. A
 * larger declared model, or an ONNX model with external data (how models over protobuf's 2 GB
 * limit are stored), travels as files instead, since a broadcast array stops at 2 GB and holds
 * the whole model in the driver's and each executor's heap: a model on a Hadoop file system
 * ({@code hdfs:}, {@code s3a:}) is read by each executor JVM from there, once; one on the
 * driver's disk is shipped with {@code SparkContext.addFile} under names that carry its hash (two
 * models both called {@code model.onnx} never collide). Either way the executor checks the
 * files against the declaration's SHA-256 before using them.
 */
final class ModelShipment implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ModelShipment.class);

  /** Spark setting: the largest declared model sent as a broadcast array (a size, e.g. 512m). */
  static final String BROADCAST_LIMIT = "spark.bottleneck.model.broadcastLimit";
  static final String DEFAULT_BROADCAST_LIMIT = "256m";

  /** The broadcast model or weights; null when the model travels as files. */
  private final Broadcast<byte[]> bytes;
  /** Files: the declaration (its uri and SHA-256). */
  private final BaseDeclaration declared;
  /** Files shipped by addFile: the model's name under SparkFiles; null when read from the file system. */
  private final String modelFile;
  /** Files shipped by addFile: each data file's location and its name under SparkFiles. */
  private final Map<String, String> dataFiles;

  private ModelShipment(Broadcast<byte[]> bytes, BaseDeclaration declared, String modelFile,
      Map<String, String> dataFiles) {
    this.bytes = bytes;
    this.declared = declared;
    this.modelFile = modelFile;
    this.dataFiles = dataFiles;
  }

  /** Ships the model of {@code baseId} (registered on this driver) to the executors. */
  static ModelShipment of(JavaSparkContext jsc, String baseId) {
    BaseDeclaration d = DeclaredBases.get(baseId);
    if (d == null) {
      return new ModelShipment(jsc.broadcast(Bases.weights(baseId)), null, null, Map.of());
    }
    byte[] model = DeclaredBases.model(baseId);
    List<String> data = DeclaredBases.dataFiles(baseId);
    long limit = jsc.getConf().getSizeAsBytes(BROADCAST_LIMIT, DEFAULT_BROADCAST_LIMIT);
    if (data.isEmpty() && model.length <= limit) {
      return new ModelShipment(jsc.broadcast(model), null, null, Map.of());
    }
    String why = data.isEmpty()
        ? model.length + " bytes, over " + BROADCAST_LIMIT + " (" + limit + ")"
        : "external data " + data;
    if (jsc.isLocal() || !isLocalFile(d.uri())) {
      // local mode: the executor is this JVM, where the model is registered already
      LOG.info("featurize: base {} ({}) is read by each executor from {}", baseId, why, d.uri());
      return new ModelShipment(null, d, null, Map.of());
    }
    try {
      Path staging = ModelFiles.scratch("shipped-" + d.sha256());
      String prefix = d.sha256().substring(0, 16) + "-";
      String modelName = prefix + "model." + (d.format() == BaseDeclaration.Format.SAVEDMODEL ? "zip" : "onnx");
      Path modelPath = staging.resolve(modelName);
      if (!Files.exists(modelPath)) {
        Files.write(modelPath, model); // the checked bytes (a SavedModel packed), not a path that may change
      }
      addFile(jsc, modelPath);
      Map<String, String> names = new LinkedHashMap<>();
      for (int i = 0; i < data.size(); i++) {
        String location = data.get(i);
        String name = prefix + i + "-" + Path.of(location).getFileName();
        Path link = staging.resolve(name);
        if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(link, DeclaredBases.dataFolder(baseId).resolve(location));
        }
        addFile(jsc, link);
        names.put(location, name);
      }
      LOG.info("featurize: base {} ({}) ships to the executors as {} file(s) with addFile", baseId, why, 1 + data.size());
      return new ModelShipment(null, d, modelName, names);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot stage the model of base " + baseId + " for the executors", e);
    }
  }

  private static boolean isLocalFile(String uri) {
    String scheme = URI.create(uri.replace(" ", "%20")).getScheme();
    return scheme == null || scheme.equals("file");
  }

  private static void addFile(JavaSparkContext jsc, Path file) {
    String uri = file.toUri().toString();
    if (!jsc.sc().listFiles().contains(uri)) {
      jsc.sc().addFile(uri);
    }
  }

  /**
   * On an executor: the model's bytes, as {@link Bases#fromWeights} takes them. A model that
   * travels as files is first registered with {@link DeclaredBases} (its data files gathered
   * into a local folder), once per JVM and model.
   */
  byte[] weights(Configuration conf) {
    if (bytes != null) {
      return bytes.value();
    }
    synchronized (ModelShipment.class) {
      BaseDeclaration known = DeclaredBases.get(declared.name());
      if (known == null || !known.sha256().equals(declared.sha256()) || !DeclaredBases.hasModel(declared.name())) {
        register(conf);
      }
      return DeclaredBases.model(declared.name());
    }
  }

  private void register(Configuration conf) {
    try {
      byte[] model;
      Map<String, ModelFiles.Source> data = new LinkedHashMap<>();
      if (modelFile != null) {
        model = Files.readAllBytes(Path.of(SparkFiles.get(modelFile)));
        dataFiles.forEach((location, name) -> data.put(location, ModelFiles.local(Path.of(SparkFiles.get(name)))));
      } else if (declared.format() == BaseDeclaration.Format.SAVEDMODEL) {
        model = SavedModels.pack(declared.uri(), conf);
      } else {
        model = HadoopFiles.readBytes(declared.uri(), conf);
        data.putAll(DeclaredBases.dataFilesBeside(declared.uri(), model, conf));
      }
      DeclaredBases.register(declared, model, data);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the model of base " + declared.name() + " from " + declared.uri(), e);
    }
  }

  /** Releases the broadcast; shipped files stay with the application. */
  void destroy() {
    if (bytes != null) {
      bytes.destroy();
    }
  }
}
