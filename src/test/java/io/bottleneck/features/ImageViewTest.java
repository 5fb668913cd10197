package io.bottleneck.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ImageViewTest {
  private static final int SIZE = 8;
  private static final Augmentation AUG = new Augmentation(3, 20, 0.2, 0.1, 0.1, true, 42);

  /** Two random images, NCHW. */
  private static float[] randomBatch(long seed) {
    Random random = new Random(seed);
    float[] batch = new float[2 * 3 * SIZE * SIZE];
    for (int i = 0; i < batch.length; i++) {
      batch[i] = random.nextFloat() * 2 - 1;
    }
    return batch;
  }

  private static float nchw(float[] batch, int image, int c, int y, int x) {
    return batch[image * 3 * SIZE * SIZE + c * SIZE * SIZE + y * SIZE + x];
  }

  private static float[] toNhwc(float[] nchw) {
    float[] out = new float[nchw.length];
    for (int i = 0; i < 2; i++) {
      for (int c = 0; c < 3; c++) {
        for (int y = 0; y < SIZE; y++) {
          for (int x = 0; x < SIZE; x++) {
            out[i * 3 * SIZE * SIZE + (y * SIZE + x) * 3 + c] = nchw(nchw, i, c, y, x);
          }
        }
      }
    }
    return out;
  }

  @Test
  void originalLeavesTheInputAloneAndFlipMirrorsExactlyOneImage() {
    float[] batch = randomBatch(1);
    float[] before = batch.clone();
    ImageView.ORIGINAL.apply(batch, 1, SIZE, false, "h");
    assertThat(batch).containsExactly(before);

    ImageView.FLIP.apply(batch, 1, SIZE, false, "h");
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < SIZE; y++) {
        for (int x = 0; x < SIZE; x++) {
          assertThat(nchw(batch, 1, c, y, x)).isEqualTo(nchw(before, 1, c, y, SIZE - 1 - x));
          assertThat(nchw(batch, 0, c, y, x)).isEqualTo(nchw(before, 0, c, y, x)); // untouched
        }
      }
    }
    ImageView.FLIP.apply(batch, 1, SIZE, false, "h");
    assertThat(batch).containsExactly(before);
  }

  @Test
  void bothLayoutsGetTheSameValuesAtTheSamePositions() {
    float[] nchw = randomBatch(2);
    float[] nhwc = toNhwc(nchw);
    for (int copy = 1; copy <= AUG.copies(); copy++) {
      ImageView view = ImageView.augmented(AUG, copy);
      float[] a = nchw.clone();
      float[] b = nhwc.clone();
      view.apply(a, 0, SIZE, false, "abc");
      view.apply(b, 0, SIZE, true, "abc");
      assertThat(toNhwc(a)).containsExactly(b);
    }
  }

  @Test
  void transformsDependOnlyOnSeedCopyAndContentHash() {
    ImageView view = ImageView.augmented(AUG, 2);
    ImageView.Transform t = view.transformFor("deadbeef");
    // same inputs, a new instance (as on another executor): same draw
    assertThat(ImageView.augmented(new Augmentation(5, 20, 0.2, 0.1, 0.1, true, 42), 2).transformFor("deadbeef"))
        .isEqualTo(t);
    assertThat(ImageView.augmented(AUG, 1).transformFor("deadbeef")).isNotEqualTo(t);
    assertThat(view.transformFor("deadbeee")).isNotEqualTo(t);
    assertThat(ImageView.augmented(new Augmentation(3, 20, 0.2, 0.1, 0.1, true, 43), 2).transformFor("deadbeef"))
        .isNotEqualTo(t);
  }

  @Test
  void drawsStayInsideTheConfiguredRangesAndCoverThem() {
    Set<Boolean> flips = new HashSet<>();
    double maxAngle = 0;
    double minScale = 2;
    double maxScale = 0;
    for (int i = 0; i < 2000; i++) {
      ImageView.Transform t = ImageView.augmented(AUG, 1 + i % 3).transformFor("hash" + i);
      flips.add(t.flip());
      assertThat(Math.abs(Math.toDegrees(t.rotationRadians()))).isLessThanOrEqualTo(20);
      assertThat(t.scale()).isBetween(0.8, 1.2);
      assertThat(Math.abs(t.shiftX())).isLessThanOrEqualTo(0.1);
      assertThat(Math.abs(t.shiftY())).isLessThanOrEqualTo(0.1);
      maxAngle = Math.max(maxAngle, Math.abs(Math.toDegrees(t.rotationRadians())));
      minScale = Math.min(minScale, t.scale());
      maxScale = Math.max(maxScale, t.scale());
    }
    assertThat(flips).containsExactlyInAnyOrder(true, false);
    assertThat(maxAngle).isGreaterThan(19);
    assertThat(minScale).isLessThan(0.81);
    assertThat(maxScale).isGreaterThan(1.19);

    ImageView.Transform still =
        ImageView.augmented(new Augmentation(1, 0, 0, 0, 0, false, 7), 1).transformFor("x");
    assertThat(still).isEqualTo(ImageView.Transform.IDENTITY);
  }

  @Test
  void rotationShiftAndZoomMoveContentAsDescribed() {
    // a single bright pixel at (x=1, y=2) in every channel
    float[] marker = new float[2 * 3 * SIZE * SIZE];
    for (int c = 0; c < 3; c++) {
      marker[c * SIZE * SIZE + 2 * SIZE + 1] = 1f;
    }
    float[] rotated = marker.clone();
    ImageView.transform(rotated, 0, SIZE, false, new ImageView.Transform(false, Math.PI / 2, 1, 0, 0));
    // +90 degrees turns the image counter-clockwise: (x, y) -> (y, SIZE - 1 - x)
    assertThat(nchw(rotated, 0, 0, SIZE - 1 - 1, 2)).isCloseTo(1f, within(1e-5f));
    assertThat(sum(rotated)).isCloseTo(3f, within(1e-4f));

    float[] shifted = marker.clone();
    ImageView.transform(shifted, 0, SIZE, false, new ImageView.Transform(false, 0, 1, 0.25, 0.125));
    // content moves right by 0.25 * 8 = 2 and down by 1
    assertThat(nchw(shifted, 0, 1, 3, 3)).isEqualTo(1f);
    assertThat(sum(shifted)).isCloseTo(3f, within(1e-6f));

    // zoom 2 about the centre: output (x, y) samples source ((x + 0.5 - 4) / 2 + 4 - 0.5, ...)
    float[] ramp = new float[2 * 3 * SIZE * SIZE];
    for (int y = 0; y < SIZE; y++) {
      for (int x = 0; x < SIZE; x++) {
        ramp[y * SIZE + x] = x; // channel 0 holds the column index
      }
    }
    ImageView.transform(ramp, 0, SIZE, false, new ImageView.Transform(false, 0, 2, 0, 0));
    for (int x = 0; x < SIZE; x++) {
      double source = (x + 0.5 - 4) / 2 + 4 - 0.5;
      assertThat(nchw(ramp, 0, 0, 3, x)).isCloseTo((float) source, within(1e-5f));
    }

    // zoomed out, the border is filled with the nearest edge pixel, never with zeros
    float[] ones = new float[2 * 3 * SIZE * SIZE];
    java.util.Arrays.fill(ones, 1f);
    ImageView.transform(ones, 0, SIZE, false, new ImageView.Transform(false, 0.3, 0.8, 0.1, -0.1));
    for (int i = 0; i < 3 * SIZE * SIZE; i++) {
      assertThat(ones[i]).isCloseTo(1f, within(1e-6f));
    }
  }

  @Test
  void viewsHaveDistinctCacheSuffixesAndTheOriginalNone() {
    assertThat(ImageView.ORIGINAL.cacheSuffix()).isEmpty();
    assertThat(ImageView.FLIP.cacheSuffix()).isEqualTo("+flip");
    assertThat(ImageView.augmented(AUG, 1).cacheSuffix()).isEqualTo("+aug-r20-z0.2-w0.1-h0.1-flip-s42-k1");
    assertThat(ImageView.augmented(AUG, 1)).isNotEqualTo(ImageView.augmented(AUG, 2));
    assertThatThrownBy(() -> ImageView.augmented(AUG, 4)).hasMessageContaining("[1, 3]");
    assertThatThrownBy(() -> new Augmentation(1, 0, 1.5, 0, 0, false, 1)).hasMessageContaining("zoom");
  }

  private static float sum(float[] batch) {
    float s = 0;
    for (int i = 0; i < 3 * SIZE * SIZE; i++) {
      s += batch[i];
    }
    return s;
  }

  @Test
  void exifOrientationTurnsTheNetworkInputUprightBeforeTheView() throws Exception {
    java.awt.image.BufferedImage stored = new java.awt.image.BufferedImage(48, 24, java.awt.image.BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 24; y++) {
      for (int x = 0; x < 48; x++) {
        stored.setRGB(x, y, (x * 5) << 16 | (y * 10) << 8 | 0x40); // red grows rightwards, green downwards
      }
    }
    byte[] tagged = io.bottleneck.io.JpegVariants.withExifOrientation(io.bottleneck.io.JpegVariants.write(stored, false), 6, false);
    java.util.List<byte[]> files = java.util.List.of(tagged);
    java.util.List<String> names = java.util.List.of("phone.jpg");
    java.util.List<String> hashes = java.util.List.of("h");
    try (io.bottleneck.nets.ImageBase base = io.bottleneck.nets.Bases.load("pixels16")) {
      // pixels16's features are its network input: the 16 x 16 resized image
      float[] upright = base.featurize(java.util.List.of(io.bottleneck.io.Images.decode(tagged, "phone.jpg", true)))[0];
      float[] asStored = base.featurize(java.util.List.of(io.bottleneck.io.Images.decode(tagged, "phone.jpg", false)))[0];
      assertThat(ImageView.ORIGINAL.featurizeFiles(base, files, names, hashes, true)[0])
          .containsExactly(upright, org.assertj.core.data.Offset.offset(1e-5f));
      assertThat(ImageView.ORIGINAL.featurizeFiles(base, files, names, hashes, false)[0])
          .containsExactly(asStored, org.assertj.core.data.Offset.offset(1e-5f));
      // the view applies to the upright image: its mirror image
      float[] flipped = upright.clone();
      ImageView.FLIP.apply(flipped, 0, 16, base.channelsLast(), "h");
      assertThat(ImageView.FLIP.featurizeFiles(base, files, names, hashes, true)[0])
          .containsExactly(flipped, org.assertj.core.data.Offset.offset(1e-5f));
    }
  }
}
