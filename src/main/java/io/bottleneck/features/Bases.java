package io.bottleneck.features;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The supported frozen bases and their bundled Keras weights.
 *
 * <p>On Spark, broadcast {@link #weights(String)} once and call {@link #fromWeights} on each
 * executor thread: instances are not thread-safe and weight bytes travel better than a graph.
 */
public final class Bases {

  public static final String DEFAULT = MobileNetV1Base.ID;

  private static final String WEIGHTS_DIR = "/io/bottleneck/features/weights/";

  private static final List<String> NAMES = List.of(MobileNetV1Base.ID, SqueezeNetBase.ID);

  private static final Map<String, String> RESOURCES = Map.of(
      MobileNetV1Base.ID, WEIGHTS_DIR + "mobilenet_2_5_224_tf_no_top.h5",
      SqueezeNetBase.ID, WEIGHTS_DIR + "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5");

  private static final Map<String, Function<KerasWeights, ImageBase>> BUILDERS = Map.of(
      MobileNetV1Base.ID, MobileNetV1Base::fromWeights,
      SqueezeNetBase.ID, SqueezeNetBase::fromWeights);

  private Bases() {}

  /** Supported ids, the default first. */
  public static List<String> names() {
    return NAMES;
  }

  /** The bundled {@code .h5} weight file of a base, as bytes (a fresh copy per call). */
  public static byte[] weights(String id) {
    String resource = RESOURCES.get(check(id));
    try (InputStream in = Bases.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("Weights of base '" + id + "' missing from the classpath: "
            + resource);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read weights resource " + resource, e);
    }
  }

  /**
   * Builds a base from the bytes of its Keras weights file. Fails if any tensor or parameter
   * does not match the architecture.
   */
  public static ImageBase fromWeights(String id, byte[] h5Bytes) {
    Function<KerasWeights, ImageBase> builder = BUILDERS.get(check(id));
    return builder.apply(KerasWeights.read(h5Bytes));
  }

  /** Builds a base from its bundled weights. */
  public static ImageBase load(String id) {
    return fromWeights(id, weights(id));
  }

  private static String check(String id) {
    Objects.requireNonNull(id, "base id");
    if (!RESOURCES.containsKey(id)) {
      throw new IllegalArgumentException("Unknown base '" + id + "'; supported: "
          + String.join(", ", NAMES));
    }
    return id;
  }
}
