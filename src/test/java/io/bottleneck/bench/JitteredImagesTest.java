package io.bottleneck.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.io.Images;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JitteredImagesTest {
  private static List<JitteredImages.Source> sources;
  @TempDir Path tmp;

  @BeforeAll
  static void readSources() throws Exception {
    sources = new ArrayList<>();
    for (String name : List.of("cat.0.jpg", "dog.0.jpg")) {
      try (var in = JitteredImagesTest.class.getResourceAsStream("/features/" + name)) {
        sources.add(new JitteredImages.Source(name.substring(0, 3), in.readAllBytes(), name));
      }
    }
  }

  @Test
  void copiesAreDistinctDecodableAndLabeledByFileName() throws Exception {
    JitteredImages.Generated g = JitteredImages.ensure(sources, tmp.resolve("12"), 12, 7, "test");
    assertThat(g.reused()).isFalse();
    assertThat(g.files()).hasSize(12);
    assertThat(JitteredImages.images(g.dir())).isEqualTo(g.files());
    Set<String> hashes = new HashSet<>();
    for (Path p : g.files()) {
      byte[] bytes = Files.readAllBytes(p);
      hashes.add(JitteredImages.sha256(bytes));
      BufferedImage image = Images.decode(bytes, p.toString());
      assertThat(image.getWidth()).isGreaterThan(100);
    }
    assertThat(hashes).hasSize(12);
    for (byte[] source : List.of(sources.get(0).bytes(), sources.get(1).bytes())) {
      assertThat(hashes).doesNotContain(JitteredImages.sha256(source));
    }
    assertThat(g.files().get(0).getFileName().toString()).isEqualTo("cat.0000000.jpg");
    assertThat(g.files().get(1).getFileName().toString()).isEqualTo("dog.0000001.jpg");
  }

  @Test
  void sameSeedSameBytesOtherSeedOtherBytes() throws Exception {
    List<Path> a = JitteredImages.ensure(sources, tmp.resolve("a"), 4, 42, "test").files();
    List<Path> b = JitteredImages.ensure(sources, tmp.resolve("b"), 4, 42, "test").files();
    List<Path> c = JitteredImages.ensure(sources, tmp.resolve("c"), 4, 43, "test").files();
    for (int i = 0; i < 4; i++) {
      assertThat(Files.readAllBytes(b.get(i))).isEqualTo(Files.readAllBytes(a.get(i)));
      assertThat(Files.readAllBytes(c.get(i))).isNotEqualTo(Files.readAllBytes(a.get(i)));
    }
  }

  @Test
  void reusesACompleteFolderAndRegeneratesOtherwise() throws Exception {
    Path dir = tmp.resolve("6");
    List<Path> first = JitteredImages.ensure(sources, dir, 6, 1, "test").files();
    FileTime old = FileTime.fromMillis(1_000_000L);
    for (Path p : first) {
      Files.setLastModifiedTime(p, old);
    }

    JitteredImages.Generated again = JitteredImages.ensure(sources, dir, 6, 1, "test");
    assertThat(again.reused()).isTrue();
    assertThat(again.files()).isEqualTo(first);
    assertThat(Files.getLastModifiedTime(first.get(0))).isEqualTo(old);

    Files.delete(first.get(3)); // incomplete: count differs
    JitteredImages.Generated refilled = JitteredImages.ensure(sources, dir, 6, 1, "test");
    assertThat(refilled.reused()).isFalse();
    assertThat(refilled.files()).hasSize(6);

    JitteredImages.Generated otherSeed = JitteredImages.ensure(sources, dir, 6, 2, "test");
    assertThat(otherSeed.reused()).isFalse();
    JitteredImages.Generated fewer = JitteredImages.ensure(sources, dir, 3, 2, "test");
    assertThat(fewer.reused()).isFalse();
    assertThat(JitteredImages.images(dir)).hasSize(3);
  }
}
