package io.bottleneck.io;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.kryo.Nd4jSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J's Kryo registrations ({@link Nd4jRegistrator}) with a bulk serializer for float, double,
 * int and long arrays. ND4J's own serializer writes and reads an array one element at a time
 * through a {@code DataOutputStream}; parameter averaging moves the head's parameters and Adam
 * state (~1.3 M floats) in a broadcast and in every worker's result each round, and that
 * element-wise copying was the largest part of a round's own work. Other arrays (views are
 * copied first; scalars, other data types) go through ND4J's serializer unchanged, and empty arrays, which it cannot
 * write, as their type and shape.
 *
 * <p>Use as {@code spark.kryo.registrator=io.bottleneck.io.NdArrayKryoRegistrator} (the job sets
 * it when nothing else is set); bytes written by one serializer are only read by the same one,
 * which a Spark application always uses throughout.
 */
public final class NdArrayKryoRegistrator implements KryoRegistrator {
  @Override
  public void registerClasses(Kryo kryo) {
    new Nd4jRegistrator().registerClasses(kryo);
    // registering the class again replaces the serializer of its registration
    kryo.register(Nd4j.getBackend().getNDArrayClass(), new BulkSerializer());
  }

  /**
   * Header byte then data: {@code 0} and ND4J's format (scalars, other data types); {@code 1},
   * data type, order, rank, shape and the elements as little-endian bytes (copied in chunks, so
   * there is no second copy of the whole array on the heap); {@code 2}, data type and shape of an
   * empty array.
   */
  static final class BulkSerializer extends Serializer<INDArray> {
    private static final byte ND4J = 0;
    private static final byte BULK = 1;
    private static final byte EMPTY = 2;
    /** Bytes per copy between the array and the stream. */
    private static final int CHUNK = 64 << 10;

    private final Nd4jSerializer fallback = new Nd4jSerializer();

    @Override
    public void write(Kryo kryo, Output output, INDArray array) {
      if (array.isEmpty()) {
        // ND4J's serializer fails on empty arrays (they have no data buffer)
        output.writeByte(EMPTY);
        output.writeByte(array.dataType().ordinal());
        writeShape(array.shape(), output);
        return;
      }
      if (!bulk(array.dataType()) || array.rank() == 0) {
        output.writeByte(ND4J);
        fallback.write(kryo, output, array);
        return;
      }
      INDArray dense =
          array.isView() || array.data().length() != array.length() || !Shape.hasDefaultStridesForShape(array)
              ? array.dup(array.ordering())
              : array;
      output.writeByte(BULK);
      output.writeByte(dense.dataType().ordinal());
      output.writeByte(dense.ordering());
      writeShape(dense.shape(), output);
      copyOut(dense, output);
    }

    private static void writeShape(long[] shape, Output output) {
      output.writeInt(shape.length, true);
      for (long d : shape) {
        output.writeLong(d, true);
      }
    }

    private static long[] readShape(Input input) {
      long[] shape = new long[input.readInt(true)];
      for (int i = 0; i < shape.length; i++) {
        shape[i] = input.readLong(true);
      }
      return shape;
    }

    @Override
    public INDArray read(Kryo kryo, Input input, Class<INDArray> type) {
      byte format = input.readByte();
      if (format == ND4J) {
        return fallback.read(kryo, input, type);
      }
      if (format != BULK && format != EMPTY) {
        throw new IllegalStateException("Not an INDArray written by " + BulkSerializer.class.getName() + ": header " + format);
      }
      DataType dataType = DataType.values()[input.readByte()];
      if (format == EMPTY) {
        long[] shape = readShape(input);
        return shape.length == 0 ? Nd4j.empty(dataType) : Nd4j.create(dataType, shape);
      }
      char order = (char) input.readByte();
      return copyIn(dataType, readShape(input), order, input);
    }

    private static boolean bulk(DataType type) {
      return type == DataType.FLOAT || type == DataType.DOUBLE || type == DataType.INT || type == DataType.LONG;
    }

    private static void copyOut(INDArray array, Output output) {
      byte[] chunk = new byte[CHUNK];
      ByteBuffer bytes = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
      switch (array.dataType()) {
        case FLOAT -> {
          float[] values = array.data().asFloat();
          int per = CHUNK / Float.BYTES;
          for (int from = 0; from < values.length; from += per) {
            int n = Math.min(per, values.length - from);
            bytes.clear();
            bytes.asFloatBuffer().put(values, from, n);
            output.writeBytes(chunk, 0, n * Float.BYTES);
          }
        }
        case DOUBLE -> {
          double[] values = array.data().asDouble();
          int per = CHUNK / Double.BYTES;
          for (int from = 0; from < values.length; from += per) {
            int n = Math.min(per, values.length - from);
            bytes.clear();
            bytes.asDoubleBuffer().put(values, from, n);
            output.writeBytes(chunk, 0, n * Double.BYTES);
          }
        }
        case INT -> {
          int[] values = array.data().asInt();
          int per = CHUNK / Integer.BYTES;
          for (int from = 0; from < values.length; from += per) {
            int n = Math.min(per, values.length - from);
            bytes.clear();
            bytes.asIntBuffer().put(values, from, n);
            output.writeBytes(chunk, 0, n * Integer.BYTES);
          }
        }
        case LONG -> {
          long[] values = array.data().asLong();
          int per = CHUNK / Long.BYTES;
          for (int from = 0; from < values.length; from += per) {
            int n = Math.min(per, values.length - from);
            bytes.clear();
            bytes.asLongBuffer().put(values, from, n);
            output.writeBytes(chunk, 0, n * Long.BYTES);
          }
        }
        default -> throw new IllegalStateException("No bulk copy for " + array.dataType());
      }
    }

    private static INDArray copyIn(DataType dataType, long[] shape, char order, Input input) {
      long length = Shape.lengthOf(shape);
      if (length > Integer.MAX_VALUE) {
        throw new IllegalStateException("INDArray of " + length + " elements is too large to deserialize");
      }
      int n = (int) length;
      byte[] chunk = new byte[CHUNK];
      ByteBuffer bytes = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
      long[] strides = Nd4j.getStrides(shape, order);
      switch (dataType) {
        case FLOAT -> {
          float[] values = new float[n];
          int per = CHUNK / Float.BYTES;
          for (int from = 0; from < n; from += per) {
            int k = Math.min(per, n - from);
            input.readBytes(chunk, 0, k * Float.BYTES);
            bytes.clear();
            bytes.asFloatBuffer().get(values, from, k);
          }
          return Nd4j.create(values, shape, strides, order, DataType.FLOAT);
        }
        case DOUBLE -> {
          double[] values = new double[n];
          int per = CHUNK / Double.BYTES;
          for (int from = 0; from < n; from += per) {
            int k = Math.min(per, n - from);
            input.readBytes(chunk, 0, k * Double.BYTES);
            bytes.clear();
            bytes.asDoubleBuffer().get(values, from, k);
          }
          return Nd4j.create(values, shape, strides, order, DataType.DOUBLE);
        }
        case INT -> {
          int[] values = new int[n];
          int per = CHUNK / Integer.BYTES;
          for (int from = 0; from < n; from += per) {
            int k = Math.min(per, n - from);
            input.readBytes(chunk, 0, k * Integer.BYTES);
            bytes.clear();
            bytes.asIntBuffer().get(values, from, k);
          }
          return Nd4j.create(values, shape, strides, order, DataType.INT);
        }
        case LONG -> {
          long[] values = new long[n];
          int per = CHUNK / Long.BYTES;
          for (int from = 0; from < n; from += per) {
            int k = Math.min(per, n - from);
            input.readBytes(chunk, 0, k * Long.BYTES);
            bytes.clear();
            bytes.asLongBuffer().get(values, from, k);
          }
          return Nd4j.create(values, shape, strides, order, DataType.LONG);
        }
        default -> throw new IllegalStateException("No bulk copy for " + dataType);
      }
    }
  }
}
