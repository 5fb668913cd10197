package io.bottleneck.bench;

import java.util.Locale;
import java.util.function.Supplier;

/** The benchmark's clock and number formats, shared by its measurements. */
final class Timing {
  private Timing() {}

  /** Seconds that {@code work} takes. */
  static double time(Supplier<?> work) {
    long t0 = System.nanoTime();
    work.get();
    return seconds(t0);
  }

  /** Seconds since {@code t0} ({@link System#nanoTime}). */
  static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** {@code n / seconds}, formatted. */
  static String rate(int n, double seconds) {
    return fmt(n / seconds);
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
