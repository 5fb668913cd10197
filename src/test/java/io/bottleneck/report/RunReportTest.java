package io.bottleneck.report;

import static org.assertj.core.api.Assertions.assertThat;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.train.EpochStats;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class RunReportTest {
  private static final Pattern IMG = Pattern.compile("<img class=\"(plot|thumb)\" alt=\"([^\"]*)\" src=\"data:image/(png|jpeg);base64,([^\"]*)\">");

  /** 12 epochs, the learning rate halved at epoch 6, best at epoch 8 (index 7), stopped early. */
  private static List<EpochStats> history() {
    List<EpochStats> h = new ArrayList<>();
    for (int e = 0; e < 12; e++) {
      double lr = e < 5 ? 1e-3 : 5e-4;
      double val = 0.6 - 0.05 * Math.min(e, 7) + (e > 7 ? 0.01 * (e - 7) : 0);
      h.add(new EpochStats(e, 0.7 - 0.05 * e, 0.6 + 0.03 * e, val, 0.7 + 0.02 * Math.min(e, 7), lr));
    }
    return h;
  }

  /** Validation examples over the sample's real images: mostly right, a few confident mistakes. */
  private static ClassificationMetrics metrics() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.list(Path.of("data/sample/train"))) {
      files = s.sorted().toList();
    }
    Random random = new Random(7);
    int n = files.size();
    int[] y = new int[n];
    double[][] p = new double[n][];
    String[] paths = new String[n];
    for (int i = 0; i < n; i++) {
      String name = files.get(i).getFileName().toString();
      y[i] = name.startsWith("cat") ? 0 : 1;
      double right = i % 9 == 0 ? 0.1 + 0.2 * random.nextDouble() : 0.6 + 0.4 * random.nextDouble();
      p[i] = y[i] == 0 ? new double[] {right, 1 - right} : new double[] {1 - right, right};
      paths[i] = files.get(i).toAbsolutePath().toString();
    }
    return ClassificationMetrics.compute(List.of("cat", "dog"), y, p, paths);
  }

  private static List<Matcher> images(String html) {
    List<Matcher> found = new ArrayList<>();
    Matcher m = IMG.matcher(html);
    while (m.find()) {
      found.add(IMG.matcher(m.group()));
      found.get(found.size() - 1).matches();
    }
    return found;
  }

  @Test
  void everyPlotAndThumbnailIsAnInlineNonBlankImage() throws IOException {
    ClassificationMetrics metrics = metrics();
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("run_id", "r1");
    facts.put("input", "file:/data/<cats & dogs>");
    RunReport report = new RunReport("Run r1")
        .facts("Run", facts)
        .warnings(List.of("3 image(s) appear in more than one split"))
        .training("Learning curves: head", history(), 7, true)
        .evaluation("Validation", metrics, path -> Files.readAllBytes(Path.of(path)), 6)
        .imagePairs("Near-duplicates across splits", "1 held-out image", List.of(new RunReport.ImagePair(
            metrics.examples().get(0).path(), metrics.examples().get(1).path(), "validation ~ train, cosine 0.9912")),
            path -> Files.readAllBytes(Path.of(path)));
    String html = report.html();
    Files.writeString(Path.of("target/report-sample.html"), html); // to look at: open it in a browser

    List<Matcher> images = images(html);
    long plots = images.stream().filter(m -> m.group(1).equals("plot")).count();
    long thumbs = images.stream().filter(m -> m.group(1).equals("thumb")).count();
    // loss, accuracy, learning rate; confusion matrix, ROC, reliability
    assertThat(plots).isEqualTo(6).isEqualTo(report.plotCount());
    long mistakes = metrics.examples().stream().filter(e -> !e.correct()).count();
    assertThat(mistakes).isBetween(6L, 12L);
    // 6 mistakes + 6 correct + one pair
    assertThat(thumbs).isEqualTo(14).isEqualTo(report.thumbnailCount());
    assertThat(html).contains("<figure class=\"pair\">", "validation ~ train, cosine 0.9912");
    assertThat(html).contains("alt=\"loss\"", "alt=\"accuracy\"", "alt=\"learning rate\"", "alt=\"confusion matrix\"",
        "alt=\"ROC curve\"", "alt=\"reliability diagram\"");
    for (Matcher m : images) {
      BufferedImage decoded = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(4))));
      assertThat(decoded).as(m.group(2)).isNotNull();
      assertThat(decoded.getWidth()).as(m.group(2)).isGreaterThan(m.group(1).equals("plot") ? 300 : 40);
      assertThat(colors(decoded)).as("distinct colours of " + m.group(2)).isGreaterThan(m.group(1).equals("plot") ? 4 : 50);
    }
    assertThat(html.split("<img", -1).length - 1).isEqualTo(images.size());
  }

  @Test
  void chromiumRendersEveryImageWithoutAnyRequest(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    ClassificationMetrics metrics = metrics();
    RunReport report = new RunReport("Run r2")
        .training("Learning curves: head", history(), 7, true)
        .evaluation("Validation", metrics, path -> Files.readAllBytes(Path.of(path)), 4);
    Path page = dir.resolve("index.html");
    Files.writeString(page, report.html());
    assertThat(io.bottleneck.testing.ReportPages.assertRendersOffline(page, 6, 8)).isEqualTo(14);
  }

  @Test
  void theBrowserCheckCatchesAPageThatReachesOut(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    String good = new RunReport("r").training("t", history(), 7, false).html();
    Path page = dir.resolve("index.html");
    // the same page without its policy, plus one remote image: what the check exists to catch
    Files.writeString(page, good.replaceFirst("<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "")
        .replace("</body>", "<img class=\"plot\" alt=\"remote\" src=\"http://127.0.0.1:9/plot.png\"></body>"));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> io.bottleneck.testing.ReportPages.assertRendersOffline(page, 3, 0))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("http://127.0.0.1:9/plot.png");
  }

  @Test
  void thePageLoadsNothingFromOutside() throws IOException {
    String html = new RunReport("r").training("t", history(), 7, false)
        .evaluation("Validation", metrics(), path -> Files.readAllBytes(Path.of(path)), 3).html();
    assertThat(html).contains("Content-Security-Policy\" content=\"default-src 'none'; img-src data:");
    Matcher refs = Pattern.compile("(?:src|href)=\"([^\"]*)\"").matcher(html);
    int n = 0;
    while (refs.find()) {
      assertThat(refs.group(1)).matches("(data:image/(png|jpeg);base64,.+|#s\\d+)");
      n++;
    }
    assertThat(n).isGreaterThan(6);
    assertThat(html).doesNotContain("<script", "<link", "@import", "url(");
  }

  @Test
  void textIsEscapedAndMissingImagesDoNotBreakThePage() throws IOException {
    Map<String, Object> facts = new LinkedHashMap<>();
    facts.put("input", "file:/data/<script>alert(1)</script>");
    ClassificationMetrics wrong = ClassificationMetrics.compute(
        List.of("a&b", "c"), new int[] {0, 1}, new double[][] {{0.1, 0.9}, {0.8, 0.2}}, new String[] {"/nope/1.jpg", "/nope/2.jpg"});
    RunReport report = new RunReport("<run>").facts("Run", facts)
        .evaluation("Validation", wrong, path -> { throw new java.io.FileNotFoundException(path); }, 4)
        .imagePairs("Pairs", "", List.of(new RunReport.ImagePair("/nope/<1>.jpg", "/nope/2.jpg", "a <b>")),
            path -> { throw new java.io.FileNotFoundException(path); })
        .imagePairs("No pairs", "", List.of(), null);
    String html = report.html();
    assertThat(html).doesNotContain("<script>", "<run>", "<1>", "a <b>")
        .contains("&lt;script&gt;", "a&amp;b", "<div class=\"missing\">", "a &lt;b&gt;", "&lt;1&gt;.jpg", "<p>None.</p>");
    // two evaluation examples and both images of the pair are grey boxes
    assertThat(html.split("<div class=\"missing\">", -1).length - 1).isEqualTo(4);
    assertThat(report.thumbnailCount()).isZero();
  }

  private static int colors(BufferedImage image) {
    Set<Integer> seen = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        seen.add(image.getRGB(x, y));
      }
    }
    return seen.size();
  }
}
