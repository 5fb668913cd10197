package io.bottleneck.report;

import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.evaluate.ClassificationMetrics.ClassMetrics;
import io.bottleneck.evaluate.ClassificationMetrics.Example;
import io.bottleneck.evaluate.Curves;
import io.bottleneck.io.Json;
import io.bottleneck.io.UndecodableImageException;
import io.bottleneck.train.EpochStats;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A run's self-contained HTML report: every plot and thumbnail is inlined as a data URI and a
 * Content-Security-Policy forbids loading anything else, so the page opens from disk with no
 * server and makes no network request. Sections appear in the order they are added.
 */
public final class RunReport {
  private static final Logger LOG = LoggerFactory.getLogger(RunReport.class);
  /** Thumbnail box, pixels. */
  static final int THUMBNAIL = 128;

  /** Reads an image's bytes by path (the report reads from the same file systems as the job). */
  @FunctionalInterface
  public interface ImageSource {
    byte[] read(String path) throws IOException;

    /** Whether thumbnails show JPEGs upright by their Exif orientation (ingest.exif-orientation). */
    default boolean exifOrientation() {
      return true;
    }
  }

  private final String title;
  private final StringBuilder body = new StringBuilder();
  private final List<String[]> contents = new ArrayList<>();
  private int plots;
  private int thumbnails;

  public RunReport(String title) {
    this.title = title;
  }

  /** A two-column table of facts; nested values are shown as JSON. */
  public RunReport facts(String heading, Map<String, ?> facts) {
    open(heading);
    body.append("<table class=\"facts\">\n");
    for (Map.Entry<String, ?> e : facts.entrySet()) {
      body.append("<tr><th>").append(escape(e.getKey())).append("</th><td>").append(value(e.getValue())).append("</td></tr>\n");
    }
    body.append("</table>\n");
    return close();
  }

  /** Warnings the reader must not miss (data leakage, imbalance); nothing when empty. */
  public RunReport warnings(List<String> warnings) {
    if (warnings.isEmpty()) {
      return this;
    }
    open("Warnings");
    body.append("<ul class=\"warnings\">\n");
    for (String w : warnings) {
      body.append("<li>").append(escape(w)).append("</li>\n");
    }
    body.append("</ul>\n");
    return close();
  }

  /** A table with a header row. */
  public RunReport table(String heading, String note, List<String> header, List<List<?>> rows) {
    open(heading);
    if (!note.isEmpty()) {
      body.append("<p>").append(escape(note)).append("</p>\n");
    }
    appendTable(header, rows);
    return close();
  }

  /** Two images shown side by side, with a caption (e.g. a near-duplicate pair and its similarity). */
  public record ImagePair(String leftPath, String rightPath, String caption) {}

  /** A grid of image pairs with a note above it; "None." when there are none. */
  public RunReport imagePairs(String heading, String note, List<ImagePair> pairs, ImageSource images) {
    open(heading);
    if (!note.isEmpty()) {
      body.append("<p>").append(escape(note)).append("</p>\n");
    }
    if (pairs.isEmpty()) {
      body.append("<p>None.</p>\n");
      return close();
    }
    body.append("<div class=\"grid\">\n");
    for (ImagePair p : pairs) {
      body.append("<figure class=\"pair\">");
      image(p.leftPath(), images);
      image(p.rightPath(), images);
      body.append("<figcaption>").append(escape(p.caption())).append("<br><span class=\"path\">")
          .append(escape(fileName(p.leftPath()))).append(" ~ ").append(escape(fileName(p.rightPath())))
          .append("</span></figcaption></figure>\n");
    }
    body.append("</div>\n");
    return close();
  }

  /** Loss, accuracy and learning-rate curves of one training stage. */
  public RunReport training(String heading, List<EpochStats> history, int bestEpoch, boolean stoppedEarly) {
    open(heading);
    if (history.isEmpty()) {
      body.append("<p>No epochs were run.</p>\n");
      return close();
    }
    EpochStats best = history.get(bestEpoch);
    body.append("<p>")
        .append(history.size()).append(" epoch(s); best epoch ").append(bestEpoch + 1)
        .append(" (val_loss ").append(num(best.validationLoss())).append(", val_accuracy ").append(num(best.validationAccuracy()))
        .append(")").append(stoppedEarly ? "; early stopping ended training" : "")
        .append(Charts.learningRateDrops(history).isEmpty() ? "" : "; the learning rate was reduced on a plateau")
        .append(".</p>\n<div class=\"plots\">\n");
    plot("loss", Charts.learningCurve(heading + ": loss", "loss", history, EpochStats::trainLoss, EpochStats::validationLoss, bestEpoch, stoppedEarly));
    plot("accuracy", Charts.learningCurve(heading + ": accuracy", "accuracy", history, EpochStats::trainAccuracy, EpochStats::validationAccuracy, bestEpoch, stoppedEarly));
    plot("learning rate", Charts.learningRate(heading + ": learning rate", history));
    body.append("</div>\n");
    return close();
  }

  /**
   * Metrics, per-class table, confusion matrix, ROC curve (two classes), reliability diagram
   * (the curves the metrics hold, of every example), then the most confident mistakes and correct
   * examples as thumbnail grids (from the examples the metrics kept: above their collect limit,
   * the {@link ClassificationMetrics#EXAMPLES_KEPT} most confident of each kind).
   */
  public RunReport evaluation(String heading, ClassificationMetrics metrics, ImageSource images, int perGrid) {
    open(heading);
    List<String> classes = metrics.classNames();
    body.append("<p class=\"headline\">accuracy <b>").append(pct(metrics.accuracy())).append("</b> · loss <b>")
        .append(num(metrics.loss())).append("</b>");
    metrics.auc().ifPresent(a -> body.append(" · ROC-AUC <b>").append(num(a)).append("</b>"));
    body.append(" · n = ").append(metrics.n()).append("</p>\n");
    List<List<?>> rows = new ArrayList<>();
    for (ClassMetrics c : metrics.perClass()) {
      rows.add(List.of(c.name(), num(c.precision()), num(c.recall()), num(c.f1()), c.support()));
    }
    appendTable(List.of("class", "precision", "recall", "F1", "support"), rows);
    body.append("<div class=\"plots\">\n");
    plot("confusion matrix", Charts.confusionMatrix(heading + ": confusion matrix", classes, metrics.confusionMatrix()));
    List<Curves.RocPoint> roc = metrics.rocCurve();
    if (classes.size() == 2 && !roc.isEmpty()) {
      // the exact AUC: above the collect limit the curve drawn is binned
      plot("ROC curve", Charts.roc("ROC, positive class " + classes.get(1), roc, metrics.auc().orElse(Curves.area(roc))));
    }
    List<Curves.CalibrationBin> bins = metrics.reliability();
    String xTitle = classes.size() == 2 ? "predicted P(" + classes.get(1) + ")" : "confidence of the predicted class";
    plot("reliability diagram", Charts.reliability(
        String.format(Locale.ROOT, "Calibration (ECE %.3f)", Curves.expectedCalibrationError(bins)), xTitle, bins));
    body.append("</div>\n");
    List<Example> examples = metrics.examples();
    grid("Most confident mistakes", examples.stream().filter(e -> !e.correct()), classes, images, perGrid);
    grid("Most confident correct predictions", examples.stream().filter(Example::correct), classes, images, perGrid);
    return close();
  }

  /** Number of plots added so far. */
  public int plotCount() {
    return plots;
  }

  /** Number of thumbnails added so far. */
  public int thumbnailCount() {
    return thumbnails;
  }

  public String html() {
    StringBuilder page = new StringBuilder(body.length() + 4096);
    page.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        // nothing but inline styles and data: images may load: the page is offline by construction
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>").append(escape(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n")
        .append("<h1>").append(escape(title)).append("</h1>\n<nav>");
    for (String[] c : contents) {
      page.append("<a href=\"#").append(c[0]).append("\">").append(escape(c[1])).append("</a> ");
    }
    page.append("</nav>\n").append(body).append("</body>\n</html>\n");
    return page.toString();
  }

  private void grid(String heading, java.util.stream.Stream<Example> candidates, List<String> classes, ImageSource images, int perGrid) {
    List<Example> chosen =
        candidates.sorted(Comparator.comparingDouble(Example::confidence).reversed().thenComparing(Example::path)).limit(perGrid).toList();
    body.append("<h3>").append(escape(heading)).append("</h3>\n");
    if (chosen.isEmpty()) {
      body.append("<p>None.</p>\n");
      return;
    }
    body.append("<div class=\"grid\">\n");
    for (Example e : chosen) {
      body.append("<figure class=\"example\">");
      image(e.path(), images);
      body.append("<figcaption>true <b>").append(escape(classes.get(e.trueIndex()))).append("</b>, predicted <b>")
          .append(escape(classes.get(e.predictedIndex()))).append("</b> (").append(pct(e.confidence())).append(")<br><span class=\"path\">")
          .append(escape(fileName(e.path()))).append("</span></figcaption></figure>\n");
    }
    body.append("</div>\n");
  }

  /** A thumbnail, or a grey box when the image cannot be read. */
  private void image(String path, ImageSource images) {
    String thumb = thumbnail(path, images);
    if (thumb != null) {
      body.append("<img class=\"thumb\" alt=\"").append(escape(path)).append("\" src=\"data:image/jpeg;base64,").append(thumb).append("\">");
      thumbnails++;
    } else {
      body.append("<div class=\"missing\">no image</div>");
    }
  }

  /** Base64 JPEG, or null (logged) when the image is gone or unreadable: the report still renders. */
  private static String thumbnail(String path, ImageSource images) {
    if (path.isEmpty() || images == null) {
      return null;
    }
    try {
      return Base64.getEncoder().encodeToString(Thumbnails.jpeg(images.read(path), path, THUMBNAIL, images.exifOrientation()));
    } catch (IOException | UndecodableImageException e) {
      LOG.warn("report: no thumbnail for {}: {}", path, e.getMessage());
      return null;
    }
  }

  private void plot(String name, byte[] png) {
    body.append("<figure class=\"plot\"><img class=\"plot\" alt=\"").append(escape(name))
        .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\"></figure>\n");
    plots++;
  }

  private void appendTable(List<String> header, List<List<?>> rows) {
    body.append("<table>\n<tr>");
    for (String h : header) {
      body.append("<th>").append(escape(h)).append("</th>");
    }
    body.append("</tr>\n");
    for (List<?> row : rows) {
      body.append("<tr>");
      for (Object cell : row) {
        body.append("<td>").append(value(cell)).append("</td>");
      }
      body.append("</tr>\n");
    }
    body.append("</table>\n");
  }

  private void open(String heading) {
    String id = "s" + (contents.size() + 1);
    contents.add(new String[] {id, heading});
    body.append("<section id=\"").append(id).append("\">\n<h2>").append(escape(heading)).append("</h2>\n");
  }

  private RunReport close() {
    body.append("</section>\n");
    return this;
  }

  private static String fileName(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  private static String value(Object v) {
    if (v == null) {
      return "";
    }
    if (v instanceof Double d) {
      return escape(num(d));
    }
    if (v instanceof Map<?, ?> || v instanceof List<?>) {
      return "<code>" + escape(Json.oneLine(v)) + "</code>";
    }
    return escape(String.valueOf(v));
  }

  static String num(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4g", v) : "–";
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  private static final String CSS =
      """
      body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1250px; color: #222; }
      nav a { margin-right: 1em; }
      section { margin-top: 2em; }
      table { border-collapse: collapse; margin: .5em 0; }
      th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
      table.facts th { background: #f4f4f4; }
      code { font-size: .85em; word-break: break-all; }
      .plots { display: flex; flex-wrap: wrap; gap: .5em; }
      figure { margin: 0; }
      .grid { display: flex; flex-wrap: wrap; gap: .6em; }
      figure.example { width: 140px; font-size: .8em; }
      figure.example img { display: block; max-width: 128px; max-height: 128px; }
      .path { color: #666; word-break: break-all; }
      .warnings li { color: #a33; }
      .headline { font-size: 1.15em; }
      .missing { width: 128px; height: 96px; background: #eee; }
      figure.pair { width: 270px; font-size: .8em; }
      figure.pair img, figure.pair .missing { display: inline-block; max-width: 128px; max-height: 128px; margin-right: 4px; vertical-align: top; }
      """;
}
