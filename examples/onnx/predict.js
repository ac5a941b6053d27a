// predict.js: classify an image with a model written by `scratchnet
// export --softmax`, in ONNX Runtime for Node.
//
//   npm install --ignore-scripts onnxruntime-node@1.30.0
//   node predict.js MODEL.onnx IMAGE.pgm (or IMAGE.ppm)
// (make deps installs it in build/ort: from the source folder,
//  NODE_PATH=$PWD/build/ort/node_modules node examples/onnx/predict.js ...)
//
// The model takes raw pixels (0..255), as `scratchnet predict` does: the
// scaling the training data had is part of the graph.  IMAGE is a binary
// grey PGM (P5) for a grey model or colour PPM (P6) for a colour one, of
// the model's input size (ImageMagick: convert photo.jpg -resize 32x32!
// image.ppm).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

// A binary 8-bit PGM (P5, grey) or PPM (P6, colour) as the model's input
// layout: channels first, (c, h, w).
function readImage(path) {
    const st = fs.statSync(path);   // a FIFO or a device would be read without end
    if (!st.isFile())
        throw new Error(`${path}: not a regular file`);
    if (st.size > 64 + 3 * 16384 * 16384)   // more than the largest image it takes
        throw new Error(`${path}: ${st.size} bytes, more than an image of 16384x16384 pixels`);
    const bytes = fs.readFileSync(path);
    // blanks and '#' comment lines between the fields, as netpbm writes them (GIMP does)
    const head = bytes.toString('latin1', 0, 4096)
        .match(/^P([56])(?:\s|#[^\n]*\n)+(\d{1,9})(?:\s|#[^\n]*\n)+(\d{1,9})(?:\s|#[^\n]*\n)+255\s/);
    if (!head)
        throw new Error(`${path}: not a binary 8-bit PGM (P5) or PPM (P6) image`);
    const c = head[1] === '6' ? 3 : 1, w = Number(head[2]), h = Number(head[3]);
    if (w < 1 || h < 1 || w > 16384 || h > 16384)   // scratchnet predict's side limit
        throw new Error(`${path}: ${w}x${h} pixels (width x height): each side must be 1 to 16384`);
    const at = head[0].length;
    if (bytes.length !== at + c * h * w)
        throw new Error(`${path}: ${bytes.length - at} bytes of pixels, not the ${c * h * w} ` +
                        `its header promises (cut short, or more follows)`);
    const pixels = new Float32Array(c * h * w);
    for (let i = 0; i < h * w; i++)   // interleaved RGB to planes
        for (let k = 0; k < c; k++)
            pixels[k * h * w + i] = bytes[at + i * c + k];
    return { c, w, h, pixels };
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
    const { c, w, h, pixels } = readImage(image);
    const input = new ort.Tensor('float32', pixels, [1, c, h, w]);
    const out = await session.run({ input }).catch((e) => {
        throw new Error(`${e.message} (the image is fed as 1x${c}x${h}x${w}, batch x channels x ` +
                        'height x width: a colour model takes a P6 .ppm, a grey one a P5 .pgm, of ' +
                        'its input size; a model of another input shape, or exported with ' +
                        '--batch B > 1, takes the pixels reshaped to its input, as docs/FORMATS.md shows)');
    });
    if (!out.probs)   // exported without --softmax: the raw outputs only
        throw new Error('the model has no "probs" output: export it with scratchnet export --softmax');
    const probs = out.probs.data;
    let best = 0, p = probs[0];
    if (probs.length === 1) {   // one binary output: the probability of class 1
        best = probs[0] > 0.5 ? 1 : 0;
        p = best ? probs[0] : 1 - probs[0];
    } else {
        probs.forEach((q, k) => { if (q > probs[best]) best = k; });
        p = probs[best];
    }
    const names = classNames(model);
    console.log(`class ${best}${names[best] ? ` (${names[best]})` : ''}  p = ${p.toFixed(4)}`);
}

main().catch((e) => {
    console.error(`predict.js: ${e.message}`);
    process.exit(1);
});
