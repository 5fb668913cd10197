// Scores images with a model exported by `bottleneck export`, in onnxruntime-node.
//
//   node score.mjs MODEL.onnx INPUT.bin SHAPE.json
//
// INPUT.bin: the input `image` as raw bytes, uint8, [N, S, S, 3] RGB row-major (what
// Preprocessing.resizedRgb gives per image, images one after another); SHAPE.json: its shape,
// e.g. [2, 224, 224, 3]. Prints one JSON object: {"probabilities": [[...], ...]}, one row per
// image, the classes in the order of the model's metadata "classes".
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';

const [model, inputFile, shapeFile] = process.argv.slice(2);
if (!shapeFile) {
  console.error('usage: node score.mjs MODEL.onnx INPUT.bin SHAPE.json');
  process.exit(2);
}
const shape = JSON.parse(readFileSync(shapeFile, 'utf8'));
const bytes = new Uint8Array(readFileSync(inputFile));
const expected = shape.reduce((a, b) => a * b, 1);
if (bytes.length !== expected) {
  console.error(`${inputFile} holds ${bytes.length} bytes, shape ${JSON.stringify(shape)} needs ${expected}`);
  process.exit(2);
}
const session = await ort.InferenceSession.create(model);
const result = await session.run({ image: new ort.Tensor('uint8', bytes, shape) });
const out = result.probabilities;
const [n, classes] = out.dims;
const probabilities = [];
for (let i = 0; i < n; i++) {
  probabilities.push(Array.from(out.data.slice(i * classes, (i + 1) * classes)));
}
console.log(JSON.stringify({ probabilities }));
