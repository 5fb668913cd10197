package io.bottleneck.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyntheticImagesTest {
  @TempDir Path tmp;

  @Test
  void sameSeedWritesByteIdenticalFilesInOneFolderPerClass() throws Exception {
    long t0 = System.nanoTime();
    List<Path> a = SyntheticImages.writeFolders(tmp.resolve("a"), 3, 20, 42);
    double seconds = (System.nanoTime() - t0) / 1e9;
    List<Path> b = SyntheticImages.writeFolders(tmp.resolve("b"), 3, 20, 42);
    assertThat(a).hasSize(60);
    for (int i = 0; i < a.size(); i++) {
      assertThat(tmp.resolve("a").relativize(a.get(i))).isEqualTo(tmp.resolve("b").relativize(b.get(i)));
      assertThat(Files.readAllBytes(a.get(i))).isEqualTo(Files.readAllBytes(b.get(i)));
    }
    try (Stream<Path> dirs = Files.list(tmp.resolve("a"))) {
      assertThat(dirs.map(p -> p.getFileName().toString()).sorted()).containsExactly("circle", "square", "triangle");
    }
    assertThat(tmp.resolve("a/triangle/triangle_19.jpg")).isRegularFile();
    // about 0.3 s for 60 images here; the bound only catches a generator gone slow by far
    assertThat(seconds).as("seconds for 60 images").isLessThan(10);
  }

  @Test
  void otherSeedsDifferAndEveryImageIsDistinctDecodableAndInRange() throws Exception {
    List<Path> flat = SyntheticImages.writeFlat(tmp.resolve("flat"), 4, 10, 42);
    List<Path> other = SyntheticImages.writeFlat(tmp.resolve("other"), 4, 10, 43);
    assertThat(flat.get(0).getFileName().toString()).isEqualTo("circle.0.jpg");
    assertThat(flat.get(39).getFileName().toString()).isEqualTo("cross.9.jpg");
    Set<String> hashes = new HashSet<>();
    for (int i = 0; i < flat.size(); i++) {
      byte[] bytes = Files.readAllBytes(flat.get(i));
      assertThat(bytes).isNotEqualTo(Files.readAllBytes(other.get(i)));
      hashes.add(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
      BufferedImage img = ImageIO.read(flat.get(i).toFile());
      assertThat(img.getWidth()).isBetween(SyntheticImages.MIN_SIDE, SyntheticImages.MAX_SIDE);
      assertThat(img.getHeight()).isBetween(SyntheticImages.MIN_SIDE, SyntheticImages.MAX_SIDE);
    }
    assertThat(hashes).as("distinct contents").hasSize(40);
  }

  @Test
  void aLargerSetExtendsASmallerOneAndFromSkipsTheTrainingImages() throws Exception {
    List<Path> small = SyntheticImages.writeFlat(tmp.resolve("small"), 3, 5, 7);
    SyntheticImages.writeFlat(tmp.resolve("large"), 5, 8, 7);
    for (Path f : small) {
      assertThat(Files.readAllBytes(tmp.resolve("large").resolve(f.getFileName()))).isEqualTo(Files.readAllBytes(f));
    }
    List<Path> rest = SyntheticImages.writeFlat(tmp.resolve("rest"), 3, 5, 3, 7);
    assertThat(rest.stream().map(p -> p.getFileName().toString()))
        .containsExactly(
            "circle.5.jpg", "circle.6.jpg", "circle.7.jpg", "square.5.jpg", "square.6.jpg", "square.7.jpg",
            "triangle.5.jpg", "triangle.6.jpg", "triangle.7.jpg");
    assertThat(Files.readAllBytes(rest.get(0))).isEqualTo(Files.readAllBytes(tmp.resolve("large/circle.5.jpg")));
  }

  @Test
  void classCountOutsideTheRangeIsRejected() {
    assertThatThrownBy(() -> SyntheticImages.classes(2)).hasMessage("n must be in [3, 6] but was 2");
    assertThatThrownBy(() -> SyntheticImages.classes(7)).hasMessage("n must be in [3, 6] but was 7");
  }
}
