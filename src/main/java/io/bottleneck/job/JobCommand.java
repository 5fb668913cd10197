package io.bottleneck.job;

import com.typesafe.config.Config;
import io.bottleneck.config.ConfigError;
import io.bottleneck.config.ConfigLoader;
import io.bottleneck.config.JobConfig;
import io.bottleneck.features.FeatureStage;
import io.bottleneck.io.Json;
import io.bottleneck.nets.BaseDeclaration;
import io.bottleneck.nets.Bases;
import io.bottleneck.nets.DeclaredBases;
import io.bottleneck.predict.Scoring;
import java.io.File;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.deploy.SparkHadoopUtil;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Option;

/**
 * What every command shares: {@code --conf} and {@code --set}, configuration loaded and
 * validated before Spark starts, one SparkSession for the job, stopped at the end.
 */
abstract class JobCommand implements Callable<Integer> {
  @Option(names = "--conf", paramLabel = "FILE", description = "HOCON file over the defaults (conf/bottleneck.conf).")
  File confFile;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description = "Override one configuration key (repeatable), e.g. --set train.dropout=0.3.")
  List<String> sets = new ArrayList<>();

  @Option(
      names = "--dry-run",
      description =
          "Load and validate the configuration as a run would, print it as one JSON line"
              + " (credentials masked) and exit 0 without starting Spark; configuration errors exit 2.")
  boolean dryRun;

  /** The command's options as configuration keys (without the bottleneck. prefix). */
  abstract void options(Map<String, Object> keys);

  /** Checks that need the merged configuration (e.g. a required key), before Spark starts. */
  void validate(JobConfig cfg) {}

  boolean needsCatalog(JobConfig cfg) {
    return false;
  }

  /** Whether the command featurizes with the configured base (else a bundle's base, or none). */
  boolean usesBase() {
    return false;
  }

  abstract int run(SparkSession spark, JobConfig cfg) throws Exception;

  /** Whether the command runs without Spark ({@link #runWithoutSpark}), e.g. export. */
  boolean withoutSpark() {
    return false;
  }

  /** The command's work when {@link #withoutSpark()}: no SparkSession is started. */
  int runWithoutSpark(JobConfig cfg) throws Exception {
    throw new IllegalStateException(name() + " runs with Spark");
  }

  /** The job's Hadoop settings (spark.hadoop.*, s3a credentials from the environment) without a SparkContext. */
  Configuration hadoopConf(JobConfig cfg) {
    return SparkHadoopUtil.get().newConfiguration(Sessions.sparkConf(cfg, "bottleneck " + name()));
  }

  String name() {
    return getClass().getAnnotation(picocli.CommandLine.Command.class).name();
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Object> keys = new LinkedHashMap<>();
    options(keys);
    Config resolved = ConfigLoader.resolve(confFile, sets, keys);
    JobConfig cfg = JobConfig.from(resolved);
    validate(cfg);
    if (usesBase()) {
      loadDeclaredBases(cfg);
    }
    if (dryRun) {
      Map<String, Object> report = new LinkedHashMap<>();
      report.put("command", name());
      report.put("dry_run", true);
      report.put("catalog", needsCatalog(cfg));
      report.put("config", cfg.effective);
      System.out.println(Json.oneLine(report));
      return Main.OK;
    }
    if (withoutSpark()) {
      return runWithoutSpark(cfg);
    }
    SparkSession spark = Sessions.create(cfg, "bottleneck " + name(), needsCatalog(cfg));
    try {
      return run(spark, cfg);
    } finally {
      FeatureStage.awaitPrebuiltBases(); // no engine setup running while the JVM exits
      spark.stop();
    }
  }

  /**
   * Reads and checks the model file of every declared base the configured base spec names,
   * before Spark starts: a declaration that does not fit its file exits 2 naming the key.
   */
  private void loadDeclaredBases(JobConfig cfg) {
    Configuration hadoopConf = null;
    for (String id : Bases.parseSpec(cfg.base, cfg.bases.keySet())) {
      BaseDeclaration declared = cfg.bases.get(id);
      if (declared == null) {
        continue;
      }
      if (hadoopConf == null) {
        hadoopConf = hadoopConf(cfg);
      }
      try {
        DeclaredBases.load(declared, hadoopConf);
      } catch (DeclaredBases.InvalidDeclaration e) {
        throw new ConfigError(e.getMessage(), e);
      }
    }
  }

  static void require(String value, String option, String key) {
    if (value == null || value.isEmpty()) {
      throw new ConfigError("Missing " + option + " (or configuration key bottleneck." + key + ")");
    }
  }

  /** A --model list (bundles separated by commas) with an empty entry is a configuration error. */
  static void requireModelList(String models) {
    try {
      Scoring.uris(models);
    } catch (IllegalArgumentException e) {
      throw new ConfigError("--model (key bottleneck.model): " + e.getMessage());
    }
  }
}
