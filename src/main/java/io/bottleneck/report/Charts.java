package io.bottleneck.report;

import io.bottleneck.evaluate.Curves.CalibrationBin;
import io.bottleneck.evaluate.Curves.RocPoint;
import io.bottleneck.train.EpochStats;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.AnnotationText;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's plots, drawn with XChart and encoded as PNG. */
final class Charts {
  static final int WIDTH = 560;
  static final int HEIGHT = 360;
  private static final Color TRAIN = new Color(0x1f77b4);
  private static final Color VALIDATION = new Color(0xff7f0e);
  private static final Color MARKER = new Color(0x2ca02c);
  private static final Color LR_CHANGE = new Color(0x9467bd);

  private Charts() {}

  /**
   * Train and validation values of one metric per epoch (1-based on the axis), with the best
   * epoch marked, the early stop marked when training stopped early, and learning-rate drops.
   */
  static byte[] learningCurve(
      String title, String metric, List<EpochStats> history, ToDoubleFunction<EpochStats> train,
      ToDoubleFunction<EpochStats> validation, int bestEpoch, boolean stoppedEarly) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle(metric).build();
    style(chart);
    chart.getStyler().setXAxisDecimalPattern("#");
    double[] epochs = epochAxis(history);
    line(chart, "train", epochs, values(history, train), TRAIN);
    double[] val = values(history, validation);
    if (hasFinite(val)) {
      line(chart, "validation", epochs, val, VALIDATION);
    }
    markEpochs(chart, history, train, bestEpoch, stoppedEarly);
    return png(chart);
  }

  /** The learning rate per epoch (log scale), drops marked. */
  static byte[] learningRate(String title, List<EpochStats> history) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("epoch").yAxisTitle("learning rate").build();
    style(chart);
    chart.getStyler().setXAxisDecimalPattern("#");
    chart.getStyler().setYAxisLogarithmic(true);
    chart.getStyler().setYAxisDecimalPattern("0.0E0");
    line(chart, "learning rate", epochAxis(history), values(history, EpochStats::learningRate), LR_CHANGE);
    for (int e : learningRateDrops(history)) {
      chart.addAnnotation(new AnnotationLine(e + 1, true, false));
    }
    return png(chart);
  }

  /** Confusion matrix heat map with the count in each cell: true classes down, predicted across. */
  static byte[] confusionMatrix(String title, List<String> classes, long[][] matrix) {
    int k = classes.size();
    int side = Math.max(360, Math.min(900, 120 + 70 * k));
    HeatMapChart chart = new HeatMapChartBuilder().width(side + 120).height(side).title(title).xAxisTitle("predicted").yAxisTitle("true").build();
    chart.getStyler().setShowValue(true);
    chart.getStyler().setHeatMapValueDecimalPattern("#");
    chart.getStyler().setRangeColors(new Color[] {new Color(0xf7fbff), new Color(0x6baed6), new Color(0x08306b)});
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setLegendVisible(true);
    chart.getStyler().setMin(0);
    long max = 1;
    for (long[] row : matrix) {
      for (long v : row) {
        max = Math.max(max, v);
      }
    }
    chart.getStyler().setMax(max);
    // XChart puts the first y category at the bottom: reverse so the first class is on top.
    List<String> trueAxis = new ArrayList<>(classes);
    java.util.Collections.reverse(trueAxis);
    List<Number[]> cells = new ArrayList<>();
    for (int t = 0; t < k; t++) {
      for (int p = 0; p < k; p++) {
        cells.add(new Number[] {p, k - 1 - t, matrix[t][p]});
      }
    }
    chart.addSeries("count", classes, trueAxis, cells);
    return png(chart);
  }

  /** ROC curve with the chance diagonal and the AUC in the legend. */
  static byte[] roc(String title, List<RocPoint> points, double auc) {
    XYChart chart = new XYChartBuilder().width(420).height(HEIGHT + 40).title(title)
        .xAxisTitle("false positive rate").yAxisTitle("true positive rate").build();
    style(chart);
    unitSquare(chart);
    double[] x = points.stream().mapToDouble(RocPoint::falsePositiveRate).toArray();
    double[] y = points.stream().mapToDouble(RocPoint::truePositiveRate).toArray();
    line(chart, String.format(Locale.ROOT, "ROC (AUC %.3f)", auc), x, y, TRAIN);
    diagonal(chart, "chance");
    return png(chart);
  }

  /** Reliability diagram: observed frequency against mean predicted probability per bin. */
  static byte[] reliability(String title, String xTitle, List<CalibrationBin> bins) {
    XYChart chart = new XYChartBuilder().width(420).height(HEIGHT + 40).title(title)
        .xAxisTitle(xTitle).yAxisTitle("observed frequency").build();
    style(chart);
    unitSquare(chart);
    double[] x = bins.stream().mapToDouble(CalibrationBin::meanPredicted).toArray();
    double[] y = bins.stream().mapToDouble(CalibrationBin::observed).toArray();
    XYSeries series = chart.addSeries("model", x, y);
    series.setLineColor(TRAIN);
    series.setMarkerColor(TRAIN);
    series.setMarker(SeriesMarkers.CIRCLE);
    diagonal(chart, "perfectly calibrated");
    return png(chart);
  }

  /** Epoch indices (0-based) whose learning rate is lower than the previous epoch's. */
  static List<Integer> learningRateDrops(List<EpochStats> history) {
    List<Integer> drops = new ArrayList<>();
    for (int i = 1; i < history.size(); i++) {
      if (history.get(i).learningRate() < history.get(i - 1).learningRate()) {
        drops.add(i);
      }
    }
    return drops;
  }

  private static void markEpochs(
      XYChart chart, List<EpochStats> history, ToDoubleFunction<EpochStats> train, int bestEpoch, boolean stoppedEarly) {
    if (history.isEmpty()) {
      return;
    }
    chart.getStyler().setAnnotationLineColor(MARKER);
    chart.getStyler().setAnnotationLineStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
    chart.getStyler().setAnnotationTextFontColor(MARKER);
    chart.addAnnotation(new AnnotationLine(bestEpoch + 1, true, false));
    String label = "best epoch " + (bestEpoch + 1) + (stoppedEarly ? ", stopped early at " + history.size() : "");
    // screen-space y counts from the bottom: near the top edge of the plot, left of the legend
    chart.addAnnotation(new AnnotationText(label, WIDTH / 2.0 - 40, HEIGHT - 55, true));
    for (int e : learningRateDrops(history)) {
      chart.addAnnotation(new AnnotationText("lr drop", e + 1, valueAt(history, e, train), false));
    }
  }

  private static double valueAt(List<EpochStats> history, int epoch, ToDoubleFunction<EpochStats> metric) {
    double v = metric.applyAsDouble(history.get(epoch));
    return Double.isFinite(v) ? v : 0;
  }

  private static void style(XYChart chart) {
    chart.getStyler().setChartBackgroundColor(Color.WHITE);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setMarkerSize(5);
    chart.getStyler().setPlotGridLinesColor(new Color(0xdddddd));
  }

  private static void unitSquare(XYChart chart) {
    chart.getStyler().setXAxisMin(0.0);
    chart.getStyler().setXAxisMax(1.0);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setYAxisMax(1.0);
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
  }

  private static void diagonal(XYChart chart, String name) {
    XYSeries d = chart.addSeries(name, new double[] {0, 1}, new double[] {0, 1});
    d.setLineColor(Color.GRAY);
    d.setMarker(SeriesMarkers.NONE);
    d.setLineStyle(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {4, 4}, 0));
  }

  private static void line(XYChart chart, String name, double[] x, double[] y, Color color) {
    XYSeries s = chart.addSeries(name, x, y);
    s.setLineColor(color);
    s.setMarkerColor(color);
    s.setMarker(x.length <= 60 ? SeriesMarkers.CIRCLE : SeriesMarkers.NONE);
  }

  private static double[] epochAxis(List<EpochStats> history) {
    return history.stream().mapToDouble(e -> e.epoch() + 1).toArray();
  }

  private static double[] values(List<EpochStats> history, ToDoubleFunction<EpochStats> metric) {
    return history.stream().mapToDouble(metric).toArray();
  }

  private static boolean hasFinite(double[] values) {
    for (double v : values) {
      if (Double.isFinite(v)) {
        return true;
      }
    }
    return false;
  }

  private static byte[] png(Chart<?, ?> chart) {
    try {
      return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("Could not encode the chart '" + chart.getTitle() + "' as PNG", e);
    }
  }
}
