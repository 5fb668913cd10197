package io.bottleneck.job;

import io.bottleneck.config.JobConfig;
import java.io.File;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** The one place that builds a SparkSession. */
final class Sessions {
  private static final String CATALOG_IMPLEMENTATION = "spark.sql.catalogImplementation";

  private Sessions() {}

  /**
   * Settings given to spark-submit (read by {@code new SparkConf()} from system properties)
   * win over {@code bottleneck.spark}; {@code spark.master} from the config applies only when
   * the job was not launched by spark-submit.
   *
   * @param catalog whether the job writes catalog tables: then an embedded Hive metastore is
   *     configured when the session has none
   */
  static SparkSession create(JobConfig cfg, String appName, boolean catalog) {
    SparkConf conf = sparkConf(cfg, appName);
    SparkSession.Builder builder = SparkSession.builder().config(conf);
    if (catalog) {
      configureEmbeddedCatalog(conf, cfg, builder);
    }
    return builder.getOrCreate();
  }

  /** The session's settings: spark-submit's, then {@code bottleneck.spark}, then the job's defaults. */
  static SparkConf sparkConf(JobConfig cfg, String appName) {
    SparkConf conf = new SparkConf();
    for (Map.Entry<String, String> e : cfg.spark.entrySet()) {
      conf.setIfMissing(e.getKey(), e.getValue());
    }
    conf.setIfMissing("spark.app.name", appName);
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.setIfMissing("spark.kryo.registrator", "io.bottleneck.io.NdArrayKryoRegistrator");
    conf.setIfMissing("spark.ui.showConsoleProgress", "false");
    // A worker's result in an averaging round (the head's parameters and Adam state, ~4 MB for
    // 1280 -> 256 -> 2) above the default 1 MB goes through the block manager: a store, a fetch
    // and a removal per task and round. Up to this size it comes back with the task's status.
    conf.setIfMissing("spark.task.maxDirectResultSize", "16m");
    if (isLocalMaster(conf.get("spark.master", ""))) {
      // Local mode has one executor, so locality buys nothing, and delay scheduling can stall
      // it: on hdfs:// the blocks' host (127.0.0.1) is not the executor's (localhost), a task
      // preferring it waits for a coarser locality level, and the local backend makes no new
      // resource offer after the last running task ends: the stage never finishes.
      conf.setIfMissing("spark.locality.wait", "0s");
    }
    return conf;
  }

  private static boolean isLocalMaster(String master) {
    return master.equals("local") || master.startsWith("local[");
  }

  private static void configureEmbeddedCatalog(SparkConf conf, JobConfig cfg, SparkSession.Builder builder) {
    if (!conf.contains("spark.sql.warehouse.dir")) {
      builder.config("spark.sql.warehouse.dir", new File(cfg.warehouseDir).getAbsolutePath());
    }
    // spark.sql.catalogImplementation=in-memory (given by the user) or no Hive classes: tables
    // live in the warehouse directory but the catalog forgets them when the job ends
    if (!conf.get(CATALOG_IMPLEMENTATION, "hive").equals("hive") || !hiveOnClasspath()) {
      return;
    }
    builder.enableHiveSupport();
    String urlKey = "spark.hadoop.javax.jdo.option.ConnectionURL";
    // a metastore of the user's (a database URL, or a metastore service) replaces the embedded one
    if (!conf.contains(urlKey) && !conf.contains("spark.hadoop.hive.metastore.uris")) {
      File metastore = new File(cfg.metastoreDir).getAbsoluteFile();
      System.setProperty("derby.system.home", metastore.getParent());
      builder.config(urlKey, "jdbc:derby:;databaseName=" + metastore.getPath() + ";create=true");
    }
  }

  private static boolean hiveOnClasspath() {
    try {
      Class.forName("org.apache.hadoop.hive.conf.HiveConf", false, Sessions.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }
}
