package io.bottleneck.nets;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Pins the features of fixed images, so any change to weights loading, architecture or
 * preprocessing shows up. The golden values were produced by this implementation after it had
 * matched an independent NumPy re-implementation of the Keras models to ~1.5e-5.
 */
class GoldenFeaturesTest {

  /** Absolute for values up to 1, relative above (norms reach ~95). */
  private static final double TOLERANCE = 1e-4;

  private record Golden(String base, String image, double norm, double[] first) {}

  static List<String> engines() {
    return Bases.engines();
  }

  /**
   * The goldens hold on every engine that runs the base: engines share the feature cache (see
   * {@link Bases}).
   */
  @ParameterizedTest
  @MethodSource("engines")
  void featuresMatchTheGoldenValues(String engine) throws IOException {
    List<Golden> goldens = readGoldens();
    assertThat(goldens).extracting(Golden::base).containsAll(Bases.names());
    Map<String, ImageBase> bases = new HashMap<>();
    for (Golden g : goldens) {
      if (!Bases.engines(g.base()).contains(engine)) {
        continue;
      }
      ImageBase base = bases.computeIfAbsent(g.base(), id -> Bases.load(id, engine));
      float[] f = base.featurize(List.of(BasesTest.image(g.image())))[0];
      String what = g.base() + " on " + g.image() + " (" + engine + ")";
      for (int i = 0; i < g.first().length; i++) {
        assertClose(f[i], g.first()[i], what + " value " + i);
      }
      double sum = 0;
      for (float v : f) {
        sum += (double) v * v;
      }
      assertClose(Math.sqrt(sum), g.norm(), what + " L2 norm");
    }
    bases.values().forEach(ImageBase::close);
  }

  private static void assertClose(double actual, double expected, String what) {
    double tolerance = TOLERANCE * Math.max(1.0, Math.abs(expected));
    assertThat(Math.abs(actual - expected))
        .as("%s: %s, expected %s", what, actual, expected)
        .isLessThanOrEqualTo(tolerance);
  }

  private static List<Golden> readGoldens() throws IOException {
    List<Golden> out = new ArrayList<>();
    InputStream in = GoldenFeaturesTest.class.getResourceAsStream("/features/golden-features.tsv");
    assertThat(in).as("golden-features.tsv on the test classpath").isNotNull();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        String[] cols = line.split("\t");
        double[] first = new double[cols.length - 3];
        for (int i = 0; i < first.length; i++) {
          first[i] = Double.parseDouble(cols[3 + i]);
        }
        out.add(new Golden(cols[0], cols[1], Double.parseDouble(cols[2]), first));
      }
    }
    return out;
  }
}
