package io.bottleneck.report;

import io.bottleneck.config.JobConfig;
import io.bottleneck.evaluate.ClassificationMetrics;
import io.bottleneck.features.NearDuplicates;
import io.bottleneck.ingest.DataQuality;
import io.bottleneck.io.Columns;
import io.bottleneck.io.HadoopFiles;
import io.bottleneck.train.HeadSearch;
import io.bottleneck.train.Trained;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds and writes report/index.html for pipeline, train and evaluate: the sections drawn from
 * the stages' results, the effective configuration last.
 */
public final class Reports {
  private static final Logger LOG = LoggerFactory.getLogger(Reports.class);
  /** Examples kept per data-quality finding (duplicates, leakage, near-duplicate pairs). */
  public static final int QUALITY_EXAMPLES = 5;

  private Reports() {}

  /**
   * Writes {@code runDir}/report/index.html unless report.enabled is off, ending with the
   * effective configuration, prints {@code report: URI} on stdout (before the command's
   * closing JSON line) and returns the URI ("" when none). The model and metrics are already
   * saved when this runs, so a report that fails to build is logged as an error, not a failed job.
   */
  public static String write(SparkSession spark, JobConfig cfg, String runDir, Supplier<RunReport> report) {
    if (!cfg.reportEnabled) {
      return "";
    }
    String uri = HadoopFiles.child(HadoopFiles.child(runDir, "report"), "index.html");
    try {
      RunReport built = report.get();
      addConfiguration(built, cfg);
      HadoopFiles.writeString(uri, built.html(), spark);
      LOG.info("report: {} ({} plots, {} thumbnails)", uri, built.plotCount(), built.thumbnailCount());
      System.out.println("report: " + uri);
      return uri;
    } catch (Exception e) {
      LOG.error("report: could not write {}", uri, e);
      return "";
    }
  }

  /** Reads images for thumbnails through the job's Hadoop configuration (any file system). */
  private static RunReport.ImageSource images(SparkSession spark, JobConfig cfg) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    boolean upright = cfg.exifOrientation;
    return new RunReport.ImageSource() {
      @Override
      public byte[] read(String path) throws java.io.IOException {
        return HadoopFiles.readBytes(path, conf);
      }

      @Override
      public boolean exifOrientation() {
        return upright;
      }
    };
  }

  /** Software versions, for the run facts. */
  public static Map<String, Object> versions(SparkSession spark) {
    Map<String, Object> v = new LinkedHashMap<>();
    // the job jar's manifest has no per-package entries: every package reports the same version
    v.put("bottleneck", Reports.class.getPackage().getImplementationVersion() == null
        ? "0.1.0" : Reports.class.getPackage().getImplementationVersion());
    v.put("spark", spark.version());
    v.put("java", System.getProperty("java.version"));
    return v;
  }

  /** Head (and fine-tuning) learning curves, and the search's trials when one ran. */
  public static void addTraining(RunReport report, Trained trained) {
    report.training("Learning curves: head", trained.head().history(), trained.head().bestEpoch(), trained.head().stoppedEarly());
    if (trained.fineTuned() != null) {
      report.training("Learning curves: fine-tuning", trained.fineTuned().history(), trained.fineTuned().bestEpoch(),
          trained.fineTuned().stoppedEarly());
    }
    HeadSearch.Result search = trained.search();
    if (search != null) {
      List<Map<String, Object>> trials = new ArrayList<>();
      search.trials().forEach(t -> trials.add(t.toMap()));
      List<String> header = new ArrayList<>(trials.get(0).keySet());
      List<List<?>> rows = new ArrayList<>();
      for (Map<String, Object> t : trials) {
        rows.add(new ArrayList<>(t.values()));
      }
      report.table("Hyper-parameter search", "Trial " + search.best() + " won (lowest val_loss).", header, rows);
    }
  }

  /** The evaluation section with thumbnails, when there are metrics. */
  public static void addEvaluation(SparkSession spark, JobConfig cfg, RunReport report, String heading, ClassificationMetrics metrics) {
    if (metrics != null) {
      report.evaluation(heading, metrics, images(spark, cfg), cfg.reportExamples);
    }
  }

  /**
   * The near-duplicate pairs across splits as a grid of image pairs (held-out image left), with
   * the counts; nothing when the check did not run.
   */
  public static void addNearDuplicates(SparkSession spark, JobConfig cfg, RunReport report, NearDuplicates near) {
    if (near == null) {
      return;
    }
    List<RunReport.ImagePair> pairs = new ArrayList<>();
    for (NearDuplicates.Pair p : near.examples()) {
      pairs.add(new RunReport.ImagePair(p.heldOutPath(), p.trainPath(),
          String.format(java.util.Locale.ROOT, "%s ~ train, cosine %.4f", p.heldOutSplit(), p.similarity())));
    }
    report.imagePairs("Near-duplicates across splits",
        String.format(java.util.Locale.ROOT,
            "%d held-out image(s) in %d pair(s) with a different training file whose features have cosine similarity >= %.2f "
                + "(quality.near-duplicates.min-similarity); the most similar pairs, held-out image first.",
            near.heldOutImages(), near.pairs(), near.minSimilarity()),
        pairs, images(spark, cfg));
  }

  /** The whole effective configuration (credentials masked) as one key = value table. */
  private static void addConfiguration(RunReport report, JobConfig cfg) {
    Map<String, Object> flat = new TreeMap<>();
    flatten("bottleneck", cfg.effective, flat);
    List<List<?>> rows = new ArrayList<>();
    // numbers as written (0.001, not the report's 4 significant digits); lists as JSON
    flat.forEach((k, v) -> rows.add(java.util.Arrays.asList(k, v instanceof List<?> ? v : String.valueOf(v))));
    report.table("Configuration", "Every key of the resolved configuration (defaults, --conf file, --set, options); "
        + "credential values are masked.", List.of("key", "value"), rows);
  }

  private static void flatten(String prefix, Map<?, ?> tree, Map<String, Object> out) {
    tree.forEach((k, v) -> {
      String key = prefix + "." + k;
      if (v instanceof Map<?, ?> child) {
        flatten(key, child, out);
      } else {
        out.put(key, v);
      }
    });
  }

  /** Rejected files per reason (small: one row per distinct reason). */
  public static Map<String, Long> rejectReasons(Dataset<Row> rejects) {
    Map<String, Long> reasons = new TreeMap<>();
    for (Row r : rejects.groupBy(Columns.REASON).count().collectAsList()) {
      reasons.put(r.getString(0), r.getLong(1));
    }
    return reasons;
  }

  /** Data sections: files listed/accepted/rejected with reasons, class balance per split, duplicates and leakage. */
  public static void addData(RunReport report, Map<String, Object> ingest, Map<String, Long> rejectReasons, DataQuality quality) {
    report.facts("Data", ingest);
    if (!rejectReasons.isEmpty()) {
      List<List<?>> rows = new ArrayList<>();
      rejectReasons.forEach((reason, n) -> rows.add(List.of(reason, n)));
      report.table("Rejected files", "Files that did not decode; every one is in the rejects dataset with its path.",
          List.of("reason", "files"), rows);
    }
    if (quality == null) {
      return;
    }
    TreeSet<String> labels = new TreeSet<>();
    quality.classCounts().values().forEach(m -> labels.addAll(m.keySet()));
    List<String> header = new ArrayList<>();
    header.add("split");
    header.addAll(labels);
    List<List<?>> rows = new ArrayList<>();
    quality.classCounts().forEach((split, counts) -> {
      List<Object> row = new ArrayList<>();
      row.add(split);
      labels.forEach(l -> row.add(counts.getOrDefault(l, 0L)));
      rows.add(row);
    });
    report.table("Class balance", String.format(java.util.Locale.ROOT, "Largest / smallest training class: %.2f.",
        quality.imbalanceRatio()), header, rows);
    Map<String, Object> dq = new LinkedHashMap<>();
    dq.put("duplicate groups (same content hash)", quality.duplicateGroups());
    dq.put("duplicate files beyond the first", quality.duplicateFiles());
    dq.put("images under more than one label", quality.conflictingLabels());
    dq.put("images in more than one split (leakage)", quality.leakedImages());
    if (!quality.duplicateExamples().isEmpty()) {
      dq.put("duplicate examples", quality.duplicateExamples());
    }
    if (!quality.leakageExamples().isEmpty()) {
      dq.put("leakage examples", quality.leakageExamples());
    }
    report.facts("Duplicates and leakage", dq);
  }
}
