package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.ByteBuffer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import scala.reflect.ClassTag$;

/** The configuration survives both serializers Spark may use for a broadcast. */
class SerializableHadoopConfTest {
  private static Configuration sample() {
    Configuration conf = new Configuration(false);
    conf.set("fs.s3a.endpoint", "http://127.0.0.1:9000");
    conf.set("fs.defaultFS", "hdfs://namenode:8020");
    return conf;
  }

  @Test
  void survivesKryoAsConfiguredForTheJob() {
    SparkConf spark =
        new SparkConf()
            .set("spark.serializer", KryoSerializer.class.getName())
            .set("spark.kryo.registrator", "io.bottleneck.io.NdArrayKryoRegistrator");
    SerializerInstance kryo = new KryoSerializer(spark).newInstance();
    ByteBuffer bytes = kryo.serialize(new SerializableHadoopConf(sample()), ClassTag$.MODULE$.apply(SerializableHadoopConf.class));
    SerializableHadoopConf back = kryo.deserialize(bytes, ClassTag$.MODULE$.apply(SerializableHadoopConf.class));
    assertThat(back.get()).isNotNull();
    assertThat(back.get().get("fs.s3a.endpoint")).isEqualTo("http://127.0.0.1:9000");
    assertThat(back.get().get("fs.defaultFS")).isEqualTo("hdfs://namenode:8020");
  }

  @Test
  void survivesJavaSerialization() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(new SerializableHadoopConf(sample()));
    }
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      SerializableHadoopConf back = (SerializableHadoopConf) in.readObject();
      assertThat(back.get().get("fs.defaultFS")).isEqualTo("hdfs://namenode:8020");
    }
  }
}
