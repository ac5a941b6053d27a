// ort_run.js: run an ONNX model in ONNX Runtime (npm onnxruntime-node) on
// raw float32 input, for tests/cli/test_export.c.
//
//   node ort_run.js NODE_MODULES MODEL.onnx INPUT.f32 SHAPE OUTPUT.f32
//
// INPUT.f32 holds rows of the model's input as little-endian float32, each
// of SHAPE (e.g. 1,28,28); the model's first output goes to OUTPUT.f32 the
// same way.  Prints one JSON line: the output's name and dims, and the
// model's metadata_props.
'use strict';
const fs = require('fs');
const path = require('path');

async function main() {
    const [modules, model, input, shape, output] = process.argv.slice(2);
    const ort = require(path.resolve(modules, 'onnxruntime-node'));
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
    const bytes = fs.readFileSync(input);
    const x = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
    const dims = shape.split(',').map(Number);
    const per = dims.reduce((a, b) => a * b, 1);
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', x, [x.length / per, ...dims]) };
    const results = await session.run(feeds);
    const y = results[session.outputNames[0]];
    fs.writeFileSync(output, Buffer.from(y.data.buffer, y.data.byteOffset, y.data.byteLength));
    console.log(JSON.stringify({ output: session.outputNames[0], dims: y.dims }));
}

main().catch((e) => {
    console.error(`ort_run: ${e.message}`);
    process.exit(1);
});
