// predict.js: classify a grey image with a model written by `scratchnet
// export --softmax`, in ONNX Runtime for Node.
//
//   npm install --ignore-scripts onnxruntime-node
//   node predict.js MODEL.onnx IMAGE.pgm
//
// The model takes raw pixels (0..255), as `scratchnet predict` does: the
// scaling the training data had is part of the graph.  IMAGE.pgm is a
// binary (P5) grey image of the model's input size.
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

function readPgm(path) {
    const bytes = fs.readFileSync(path);
    const head = bytes.toString('latin1', 0, 64).match(/^P5\s+(\d+)\s+(\d+)\s+255\s/);
    if (!head)
        throw new Error(`${path}: not a binary 8-bit PGM (P5) image`);
    const w = Number(head[1]), h = Number(head[2]), at = head[0].length;
    return { w, h, pixels: Float32Array.from(bytes.subarray(at, at + w * h)) };
}

async function main() {
    const [model, image] = process.argv.slice(2);
    const session = await ort.InferenceSession.create(model);
    const { w, h, pixels } = readPgm(image);
    const input = new ort.Tensor('float32', pixels, [1, 1, h, w]);
    const out = await session.run({ input });
    if (!out.probs)   // exported without --softmax: the raw outputs only
        throw new Error('the model has no "probs" output: export it with scratchnet export --softmax');
    const probs = out.probs.data;
    let best = 0;
    probs.forEach((p, k) => { if (p > probs[best]) best = k; });
    console.log(`class ${best}  p = ${probs[best].toFixed(4)}`);
}

main().catch((e) => {
    console.error(`predict.js: ${e.message}`);
    process.exit(1);
});
