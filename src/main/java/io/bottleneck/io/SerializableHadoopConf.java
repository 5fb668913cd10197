package io.bottleneck.io;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoSerializable;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import org.apache.hadoop.conf.Configuration;

/**
 * Ships the driver's Hadoop configuration (s3a keys, HDFS addresses) to executors, by Java
 * serialization and by Kryo: with Kryo as the serializer, broadcasts are written with Kryo,
 * whose field serializer would skip the transient configuration (executors got null; local
 * mode never serializes a broadcast, a cluster does).
 */
public final class SerializableHadoopConf implements Serializable, KryoSerializable {
  private static final long serialVersionUID = 1L;
  private transient Configuration conf;

  public SerializableHadoopConf(Configuration conf) {
    this.conf = conf;
  }

  public Configuration get() {
    return conf;
  }

  private void writeObject(ObjectOutputStream out) throws IOException {
    out.defaultWriteObject();
    conf.write(out);
  }

  private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
    in.defaultReadObject();
    conf = new Configuration(false);
    conf.readFields(in);
  }

  @Override
  public void write(Kryo kryo, Output output) {
    try {
      DataOutputStream data = new DataOutputStream(output);
      conf.write(data);
      data.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot serialize the Hadoop configuration", e);
    }
  }

  @Override
  public void read(Kryo kryo, Input input) {
    conf = new Configuration(false);
    try {
      conf.readFields(new DataInputStream(input));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot deserialize the Hadoop configuration", e);
    }
  }
}
