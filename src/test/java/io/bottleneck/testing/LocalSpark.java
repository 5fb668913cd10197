package io.bottleneck.testing;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The one local SparkSession shared by every unit test in the JVM: {@code local[2]}, UI off,
 * loopback host, Kryo with ND4J's registrator, few shuffle partitions. Use with
 * {@code @ExtendWith(LocalSpark.class)} and take a {@link SparkSession} or
 * {@link JavaSparkContext} as a test or constructor parameter.
 */
public final class LocalSpark implements BeforeAllCallback, ParameterResolver {
  private static SparkSession session;

  public static synchronized SparkSession session() {
    if (session == null) {
      session =
          SparkSession.builder()
              .master("local[2]")
              .appName("bottleneck-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.driver.host", "127.0.0.1")
              .config("spark.driver.bindAddress", "127.0.0.1")
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.default.parallelism", "4")
              .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
              .config("spark.kryo.registrator", "io.bottleneck.io.NdArrayKryoRegistrator")
              .config("spark.sql.session.timeZone", "UTC")
              .getOrCreate();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> session.stop()));
    }
    return session;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    session();
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
    Class<?> type = p.getParameter().getType();
    return type == SparkSession.class || type == JavaSparkContext.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext e) {
    if (p.getParameter().getType() == SparkSession.class) {
      return session();
    }
    return JavaSparkContext.fromSparkContext(session().sparkContext());
  }
}
