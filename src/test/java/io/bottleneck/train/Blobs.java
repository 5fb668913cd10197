package io.bottleneck.train;

import io.bottleneck.io.Columns;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Gaussian blobs as (features array<float>, label_index int) rows, for training tests. */
public final class Blobs {
  public static final StructType SCHEMA =
      new StructType()
          .add(Columns.FEATURES, DataTypes.createArrayType(DataTypes.FloatType, false), false)
          .add(Columns.LABEL_INDEX, DataTypes.IntegerType, false);

  private final float[][] centers;
  private final double noise;

  /** {@code classes} centres drawn N(0, spread^2) per dimension, points with N(0, noise^2). */
  public Blobs(int classes, int dims, double spread, double noise, long seed) {
    Random random = new Random(seed);
    centers = new float[classes][dims];
    for (float[] c : centers) {
      for (int d = 0; d < dims; d++) {
        c[d] = (float) (random.nextGaussian() * spread);
      }
    }
    this.noise = noise;
  }

  /** {@code n} rows, labels cycling through the classes, in {@code partitions} partitions. */
  public Dataset<Row> sample(SparkSession spark, int n, long seed, int partitions) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int label = i % centers.length;
      float[] x = new float[centers[label].length];
      for (int d = 0; d < x.length; d++) {
        x[d] = (float) (centers[label][d] + random.nextGaussian() * noise);
      }
      rows.add(RowFactory.create(x, label));
    }
    return spark.createDataFrame(rows, SCHEMA).repartition(partitions).cache();
  }

  /** {@code perClass[c]} rows of class c (for imbalanced sets), in {@code partitions} partitions. */
  public Dataset<Row> sample(SparkSession spark, int[] perClass, long seed, int partitions) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int label = 0; label < perClass.length; label++) {
      for (int i = 0; i < perClass[label]; i++) {
        float[] x = new float[centers[label].length];
        for (int d = 0; d < x.length; d++) {
          x[d] = (float) (centers[label][d] + random.nextGaussian() * noise);
        }
        rows.add(RowFactory.create(x, label));
      }
    }
    return spark.createDataFrame(rows, SCHEMA).repartition(partitions).cache();
  }
}
