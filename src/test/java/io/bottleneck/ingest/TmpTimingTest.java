package io.bottleneck.ingest;
import io.bottleneck.testing.LocalSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
class TmpTimingTest {
  @Test void time() {
    long t0 = System.nanoTime();
    SparkSession s = LocalSpark.session();
    long t1 = System.nanoTime();
    s.range(10).count();
    long t2 = System.nanoTime();
    s.range(100).groupBy(org.apache.spark.sql.functions.col("id").mod(3)).count().collectAsList();
    long t3 = System.nanoTime();
    s.range(100).groupBy(org.apache.spark.sql.functions.col("id").mod(5)).count().collectAsList();
    long t4 = System.nanoTime();
    System.err.printf("session %.1f s, first job %.1f s, first shuffle %.1f s, second shuffle %.1f s%n", (t1-t0)/1e9, (t2-t1)/1e9, (t3-t2)/1e9, (t4-t3)/1e9);
  }
}
