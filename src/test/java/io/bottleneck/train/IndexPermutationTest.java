package io.bottleneck.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class IndexPermutationTest {

  private static long[] image(long n, long seed) {
    IndexPermutation p = new IndexPermutation(n, seed);
    long[] out = new long[(int) n];
    for (int i = 0; i < n; i++) {
      out[i] = p.apply(i);
    }
    return out;
  }

  @Test
  void isABijectionOnZeroToN() {
    for (long n : new long[] {1, 2, 3, 4, 5, 17, 64, 65, 1000, 4097}) {
      long[] sorted = image(n, 7).clone();
      Arrays.sort(sorted);
      for (int i = 0; i < n; i++) {
        assertThat(sorted[i]).as("n=%d", n).isEqualTo(i);
      }
    }
  }

  @Test
  void isDeterministicPerSeedAndDiffersBetweenSeeds() {
    assertThat(image(1000, 42)).isEqualTo(image(1000, 42));
    long[] a = image(1000, 42);
    long[] b = image(1000, 43);
    int same = 0;
    int fixedPoints = 0;
    for (int i = 0; i < 1000; i++) {
      same += a[i] == b[i] ? 1 : 0;
      fixedPoints += a[i] == i ? 1 : 0;
    }
    // A random permutation agrees with another (or with identity) in ~1 place on average.
    assertThat(same).isLessThan(10);
    assertThat(fixedPoints).isLessThan(10);
  }

  @Test
  void rejectsIndicesOutsideTheDomain() {
    IndexPermutation p = new IndexPermutation(10, 1);
    assertThatThrownBy(() -> p.apply(10)).hasMessage("index 10 is outside [0, 10)");
    assertThatThrownBy(() -> new IndexPermutation(0, 1)).hasMessage("n must be >= 1 but was 0");
  }
}
