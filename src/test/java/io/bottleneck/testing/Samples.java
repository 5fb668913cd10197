package io.bottleneck.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Copies of the cats-vs-dogs sample shipped in data/sample/train, for tests that need a few. */
public final class Samples {
  private static final Path TRAIN = Path.of("data/sample/train");

  private Samples() {}

  /** The first {@code perClass} cats and dogs (by name) copied into {@code dir}, created. */
  public static Path catsAndDogs(Path dir, int perClass) throws IOException {
    Files.createDirectories(dir);
    for (String cls : List.of("cat", "dog")) {
      try (Stream<Path> files = Files.list(TRAIN)) {
        for (Path f : files.filter(p -> p.getFileName().toString().startsWith(cls + ".")).sorted().limit(perClass).toList()) {
          Files.copy(f, dir.resolve(f.getFileName()));
        }
      }
    }
    return dir;
  }
}
