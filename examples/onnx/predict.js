// predict.js: classify a grey image with a model written by `scratchnet
// export --softmax`, in ONNX Runtime for Node.
//
//   npm install --ignore-scripts onnxruntime-node
//   node predict.js MODEL.onnx IMAGE.pgm
// (make deps installs it in build/ort: from the source folder,
//  NODE_PATH=$PWD/build/ort/node_modules node examples/onnx/predict.js ...)
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

// The class names `scratchnet export` keeps in the model's metadata_props
// (ModelProto field 14: key "classes", a JSON array), read from the file's
// top-level protobuf fields; ONNX Runtime's JavaScript API does not show
// custom metadata.  [] when absent.
function classNames(path) {
    const b = fs.readFileSync(path);
    let at = 0;
    const varint = (end) => {
        let v = 0, mul = 1;
        while (at < end) {
            const byte = b[at++];
            v += (byte & 0x7f) * mul;
            if (byte < 0x80) return v;
            mul *= 128;
        }
        throw new Error(`${path}: not an ONNX model (a varint runs past its end)`);
    };
    const fields = (end, want) => {   // string values of field numbers in want
        const got = {};
        while (at < end) {
            const tag = varint(end), field = Math.floor(tag / 8), type = tag % 8;
            if (type === 0) { varint(end); continue; }
            const len = type === 2 ? varint(end) : type === 1 ? 8 : type === 5 ? 4 : -1;
            if (len < 0 || at + len > end)
                throw new Error(`${path}: not an ONNX model (field ${field} runs past its end)`);
            if (want(field, at, at + len, got) !== true)
                at += len;
        }
        return got;
    };
    let names = [];
    fields(b.length, (field, start, end) => {
        if (field !== 14)
            return false;
        const entry = fields(end, (f, s, e, got) => { got[f] = b.toString('utf8', s, e); return false; });
        if (entry[1] === 'classes')
            names = JSON.parse(entry[2]);
        return true;   // fields() moved past it
    });
    return names;
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
    const names = classNames(model);
    console.log(`class ${best}${names[best] ? ` (${names[best]})` : ''}  p = ${probs[best].toFixed(4)}`);
}

main().catch((e) => {
    console.error(`predict.js: ${e.message}`);
    process.exit(1);
});
