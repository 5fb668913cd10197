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
 * ND4J's Kryo registrations ({@link Nd4jRegistrator}) with a bulk serializer for numeric and
 * boolean arrays. ND4J's own serializer writes and reads an array one element at a time
 * through a {@code DataOutputStream}; parameter averaging moves the head's parameters and Adam
 * state (~1.3 M floats) in a broadcast and in every worker's result each round, and that
 * element-wise copying was the largest part of a round's own work. Views are copied first;
 * scalars and strings go through ND4J's serializer; empty arrays, which it cannot write, are
 * written as their type and shape.
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
   * Header byte then data: {@code 0} and ND4J's format (scalars, strings, big-endian machines);
   * {@code 1}, data type, order, rank, shape and the array's memory as it is (little-endian,
   * copied in chunks between native memory and the stream: no copy of the whole array on the
   * heap); {@code 2}, data type and shape of an empty array.
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
          array.isView() || array.data().offset() != 0 || array.data().length() != array.length()
                  || !Shape.hasDefaultStridesForShape(array)
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
      return (type.isNumerical() || type == DataType.BOOL) && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;
    }

    /** The array's memory, as the engine holds it (little-endian, elements in buffer order). */
    private static ByteBuffer memory(INDArray array) {
      return array.data().pointer().asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void copyOut(INDArray array, Output output) {
      ByteBuffer memory = memory(array);
      long bytes = array.length() * array.dataType().width();
      if (memory.capacity() != bytes) {
        throw new IllegalStateException("INDArray of " + bytes + " bytes has a buffer of " + memory.capacity());
      }
      byte[] chunk = new byte[(int) Math.min(CHUNK, bytes)];
      while (memory.hasRemaining()) {
        int n = Math.min(chunk.length, memory.remaining());
        memory.get(chunk, 0, n);
        output.writeBytes(chunk, 0, n);
      }
    }

    private static INDArray copyIn(DataType dataType, long[] shape, char order, Input input) {
      INDArray array = Nd4j.createUninitializedDetached(dataType, order, shape);
      ByteBuffer memory = memory(array);
      long bytes = array.length() * dataType.width();
      if (memory.capacity() != bytes) {
        throw new IllegalStateException("INDArray of " + bytes + " bytes got a buffer of " + memory.capacity());
      }
      byte[] chunk = new byte[(int) Math.min(CHUNK, bytes)];
      while (memory.hasRemaining()) {
        int n = Math.min(chunk.length, memory.remaining());
        input.readBytes(chunk, 0, n);
        memory.put(chunk, 0, n);
      }
      return array;
    }
  }
}
