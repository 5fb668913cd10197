package io.bottleneck.io;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.deeplearning4j.spark.api.worker.NetBroadcastTuple;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import scala.reflect.ClassTag$;

/** INDArrays through Spark's Kryo as the job configures it: the same values, shape, order and type. */
class NdArrayKryoRegistratorTest {
  private static SerializerInstance kryo(String registrator) {
    SparkConf conf =
        new SparkConf().set("spark.serializer", KryoSerializer.class.getName()).set("spark.kryo.registrator", registrator);
    return new KryoSerializer(conf).newInstance();
  }

  private static final SerializerInstance BULK = kryo(NdArrayKryoRegistrator.class.getName());

  private static INDArray roundTrip(INDArray array) {
    ByteBuffer bytes = BULK.serialize(array, ClassTag$.MODULE$.apply(INDArray.class));
    return BULK.deserialize(bytes, ClassTag$.MODULE$.apply(INDArray.class));
  }

  private static void assertSame(INDArray back, INDArray original) {
    assertThat(back.dataType()).isEqualTo(original.dataType());
    assertThat(back.shape()).containsExactly(original.shape());
    // element by element in logical order, bit for bit (NaN equals NaN, -0 differs from 0)
    assertThat(values(back)).as("values of %s", original.shapeInfoToString()).containsExactly(values(original));
  }

  private static double[] values(INDArray a) {
    return a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
  }

  @Test
  void everyBulkTypeAndLayoutComesBackEqual() {
    Random random = new Random(7);
    float[] values = new float[3 * 70_001]; // more than one 64 KB chunk, not a multiple of it
    for (int i = 0; i < values.length; i++) {
      values[i] = random.nextFloat() * 2 - 1;
    }
    INDArray c = Nd4j.create(values, new long[] {3, 70_001}, 'c');
    INDArray f = Nd4j.create(values, new long[] {3, 70_001}, 'f');
    List<INDArray> arrays =
        List.of(
            c,
            f,
            c.castTo(DataType.DOUBLE),
            Nd4j.createFromArray(new int[] {Integer.MIN_VALUE, -1, 0, 1, Integer.MAX_VALUE}),
            Nd4j.createFromArray(new long[] {Long.MIN_VALUE, -1, 0, Long.MAX_VALUE}),
            Nd4j.createFromArray(new byte[] {-128, 0, 127}),
            Nd4j.createFromArray(new boolean[] {true, false, true}),
            c.castTo(DataType.HALF),
            Nd4j.scalar(2.5f),
            Nd4j.create(new float[] {Float.NaN, Float.POSITIVE_INFINITY, -0f}, new long[] {1, 3}, 'c'));
    for (INDArray a : arrays) {
      INDArray back = roundTrip(a);
      assertSame(back, a);
      assertThat(back.ordering()).isEqualTo(a.ordering());
    }
  }

  @Test
  void viewsAreCopiedAndEmptyArraysKeepTheirType() {
    INDArray matrix = Nd4j.linspace(1, 24, 24, DataType.FLOAT).reshape('c', 4, 6);
    INDArray column = matrix.get(NDArrayIndex.all(), NDArrayIndex.point(2)); // strided view
    INDArray rows = matrix.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()); // offset view
    assertThat(column.isView()).isTrue();
    assertSame(roundTrip(column), column.dup());
    assertSame(roundTrip(rows), rows.dup());

    INDArray empty = Nd4j.empty(DataType.FLOAT);
    assertThat(roundTrip(empty).isEmpty()).isTrue();
    assertThat(roundTrip(empty).dataType()).isEqualTo(DataType.FLOAT);
  }

  @Test
  void floatArraysTakeFourBytesAnElementNotNd4jsStream() {
    INDArray params = Nd4j.rand(DataType.FLOAT, 1, 330_000);
    int bulk = BULK.serialize(params, ClassTag$.MODULE$.apply(INDArray.class)).remaining();
    assertThat(bulk).isBetween(4 * 330_000, 4 * 330_000 + 64);
  }

  /** What parameter averaging broadcasts each round: configuration, parameters, Adam state. */
  @Test
  void dl4jsRoundBroadcastSurvives() {
    var conf =
        new NeuralNetConfiguration.Builder()
            .list()
            .layer(new DenseLayer.Builder().nIn(8).nOut(4).build())
            .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(4).nOut(2).build())
            .build();
    INDArray params = Nd4j.rand(DataType.FLOAT, 1, 46);
    INDArray updater = Nd4j.rand(DataType.FLOAT, 1, 92);
    NetBroadcastTuple tuple = new NetBroadcastTuple(conf, params, updater);
    ByteBuffer bytes = BULK.serialize(tuple, ClassTag$.MODULE$.apply(NetBroadcastTuple.class));
    NetBroadcastTuple back = BULK.deserialize(bytes, ClassTag$.MODULE$.apply(NetBroadcastTuple.class));
    assertSame(back.getParameters(), params);
    assertSame(back.getUpdaterState(), updater);
    assertThat(back.getConfiguration()).isEqualTo(conf);
  }
}
