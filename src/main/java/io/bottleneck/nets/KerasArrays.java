package io.bottleneck.nets;

import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Bulk copies between float INDArrays and Java arrays for the Keras* layers. Goes through the
 * buffer's NIO view: ND4J M2's {@code DataBuffer.setData(float[])} copies element by element
 * (~10x slower than this for a 25 MB activation).
 */
public final class KerasArrays {

  private KerasArrays() {}

  /** The array's values in c order, copying through a c-ordered duplicate when needed. */
  public static float[] read(INDArray a, LayerWorkspaceMgr workspaceMgr) {
    INDArray c = a;
    if (!ownsWholeBuffer(c)) {
      c = workspaceMgr.dup(ArrayType.FF_WORKING_MEM, c, 'c');
    }
    float[] out = new float[Math.toIntExact(c.length())];
    c.data().asNioFloat().get(0, out);
    return out;
  }

  /** Writes {@code values} into a c-ordered array that owns its whole buffer. */
  public static void write(float[] values, INDArray target) {
    if (!ownsWholeBuffer(target) || target.length() != values.length) {
      throw new IllegalStateException("Cannot bulk-write " + values.length + " floats into "
          + target.shapeInfoToString());
    }
    target.data().asNioFloat().put(0, values);
  }

  private static boolean ownsWholeBuffer(INDArray a) {
    return a.dataType() == DataType.FLOAT && !a.isView() && a.ordering() == 'c'
        && a.offset() == 0 && a.data().length() == a.length();
  }
}
