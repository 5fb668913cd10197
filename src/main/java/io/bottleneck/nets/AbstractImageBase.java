package io.bottleneck.nets;

/**
 * The accessors every {@link ImageBase} implementation repeats: its id, and its input size and
 * preprocessing id from its {@link Preprocessing}. The feature size stays with each
 * implementation: some know it only once their network is loaded.
 */
public abstract class AbstractImageBase implements ImageBase {

  private final String id;
  private final Preprocessing preprocessing;

  /** A base named {@code id} whose inputs go through {@code preprocessing}. */
  protected AbstractImageBase(String id, Preprocessing preprocessing) {
    this.id = id;
    this.preprocessing = preprocessing;
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public int inputSize() {
    return preprocessing.size();
  }

  /**
   * The id of {@link #preprocessing()}: the same on every engine of a base, as engines' features
   * agree to within 1e-4 (see {@link Bases}).
   */
  @Override
  public String preprocessingId() {
    return preprocessing.id();
  }

  /** How this base's inputs are resized, ordered and scaled. */
  public Preprocessing preprocessing() {
    return preprocessing;
  }
}
