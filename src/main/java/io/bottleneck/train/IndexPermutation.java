package io.bottleneck.train;

import java.io.Serializable;

/**
 * A seeded pseudo-random permutation of {@code [0, n)} that maps one index at a time: a 4-round
 * Feistel network over the smallest even number of bits that covers n, with cycle walking for
 * values >= n. Lets every executor compute an example's shuffled position on its own, so a
 * shuffle needs neither a sort job nor a permutation array on the driver.
 */
final class IndexPermutation implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final int ROUNDS = 4;

  private final long n;
  private final int halfBits;
  private final long halfMask;
  private final long[] roundKeys = new long[ROUNDS];

  IndexPermutation(long n, long seed) {
    if (n < 1) {
      throw new IllegalArgumentException("n must be >= 1 but was " + n);
    }
    this.n = n;
    int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(n - 1));
    if (bits % 2 == 1) {
      bits++;
    }
    if (bits > 62) {
      throw new IllegalArgumentException("n is too large: " + n);
    }
    this.halfBits = bits / 2;
    this.halfMask = (1L << halfBits) - 1;
    long state = seed;
    for (int i = 0; i < ROUNDS; i++) {
      state += 0x9E3779B97F4A7C15L;
      roundKeys[i] = mix(state);
    }
  }

  /** The position of {@code index} after the permutation. */
  long apply(long index) {
    if (index < 0 || index >= n) {
      throw new IllegalArgumentException("index " + index + " is outside [0, " + n + ")");
    }
    long x = index;
    // A bijection on [0, 2^bits) restricted by cycle walking stays a bijection on [0, n); since
    // 2^bits < 4n the expected number of steps is below 4.
    do {
      x = encrypt(x);
    } while (x >= n);
    return x;
  }

  private long encrypt(long x) {
    long left = x >>> halfBits;
    long right = x & halfMask;
    for (long key : roundKeys) {
      long next = left ^ (mix(right ^ key) & halfMask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  /** SplitMix64's finaliser. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
