/**
 * Indexing ops (graph level, ONNX semantics): Slice, Pad and CenterCropPad here, which map every output axis
 * independently onto an input axis, plus the families in indexing-gather.ts (index tensors),
 * indexing-misc.ts (rearrangements and masks) and indexing-select.ts (data-dependent selections:
 * NonZero, Compress, TopK, Unique).
 *
 * Slice bounds arrive as int64 values held in doubles, so INT64_MAX "to the end" is 2^63 and
 * clamping works on it directly.
 */
import { castScalar } from '../dtype.js';
import type { Attrs } from '../graph.js';
import { stridesOf } from '../tensor.js';
import { gatherOps } from './indexing-gather.js';
import { miscOps } from './indexing-misc.js';
import { selectOps } from './indexing-select.js';
import type { InferInput, OpDef } from './registry.js';
import { asInfer, defineOp, gatherAxes, intValues, normAxes, rampOffsets, shapeStr } from './shape-util.js';
import { attrInts, attrString, constValue, fail, need } from './util.js';

interface SlicePlan {
  shape: number[];
  starts: number[];
  steps: number[];
}

function slicePlan(inputs: (InferInput | undefined)[], inShape: readonly number[]): SlicePlan {
  const rank = inShape.length;
  const starts = intValues(constValue(inputs, 1, 'the starts input'), 'starts');
  const ends = intValues(constValue(inputs, 2, 'the ends input'), 'ends');
  const rawAxes = inputs[3] ? intValues(constValue(inputs, 3, 'the axes input'), 'axes') : starts.map((_, i) => i);
  const steps = inputs[4] ? intValues(constValue(inputs, 4, 'the steps input'), 'steps') : starts.map(() => 1);
  const n = starts.length;
  if (ends.length !== n || rawAxes.length !== n || steps.length !== n) {
    fail(`starts, ends, axes and steps must have the same length, got ${n}, ${ends.length}, ${rawAxes.length}, ${steps.length}`);
  }
  const axes = normAxes(rawAxes, rank);
  const plan: SlicePlan = { shape: [...inShape], starts: new Array<number>(rank).fill(0), steps: new Array<number>(rank).fill(1) };
  for (let i = 0; i < n; i++) {
    const a = axes[i];
    const dim = inShape[a];
    const step = steps[i];
    if (step === 0) fail(`steps ${shapeStr(steps)} has a 0 step`);
    let s = starts[i] < 0 ? starts[i] + dim : starts[i];
    let e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
    }
    plan.starts[a] = s;
    plan.steps[a] = step;
    plan.shape[a] = Math.max(0, Math.ceil((e - s) / step));
  }
  return plan;
}

const Slice = defineOp(
  (inputs) => {
    const x = need(inputs, 0).type;
    return [{ dtype: x.dtype, shape: slicePlan(inputs, x.shape).shape }];
  },
  (inputs) => {
    const x = need(inputs, 0);
    const plan = slicePlan(asInfer(inputs), x.shape);
    const st = stridesOf(x.shape);
    const offs = plan.shape.map((n, d) => rampOffsets(n, st[d], plan.starts[d], plan.steps[d]));
    return [gatherAxes(x.data, x.dtype, plan.shape, offs)];
  },
);

type PadMode = 'constant' | 'reflect' | 'edge' | 'wrap';

interface PadPlan {
  mode: PadMode;
  begin: number[];
  shape: number[];
}

function padPlan(inputs: (InferInput | undefined)[], attrs: Attrs): PadPlan {
  const x = need(inputs, 0).type;
  const rank = x.shape.length;
  const mode = attrString(attrs, 'mode', 'constant');
  if (mode !== 'constant' && mode !== 'reflect' && mode !== 'edge' && mode !== 'wrap') {
    fail(`mode '${mode}' is not one of constant, reflect, edge, wrap`);
  }
  const pads = intValues(constValue(inputs, 1, 'the pads input'), 'pads');
  const axes = inputs[3] ? normAxes(intValues(constValue(inputs, 3, 'the axes input'), 'axes'), rank) : x.shape.map((_, i) => i);
  if (pads.length !== 2 * axes.length) fail(`pads ${shapeStr(pads)} must have 2 entries per padded axis (${axes.length} axes)`);
  const begin = new Array<number>(rank).fill(0);
  const shape = [...x.shape];
  axes.forEach((a, i) => {
    const b = pads[i];
    const e = pads[i + axes.length];
    begin[a] = b;
    shape[a] = x.shape[a] + b + e;
    if (shape[a] < 0) fail(`pads ${shapeStr(pads)} remove more than the ${x.shape[a]} elements of axis ${a}`);
    if (mode !== 'constant' && x.shape[a] === 0 && shape[a] > 0) fail(`mode '${mode}' cannot pad the empty axis ${a}`);
  });
  return { mode, begin, shape };
}

/** Input coordinate for output coordinate o on one axis, or -1 for the constant value. */
function padSource(o: number, begin: number, n: number, mode: PadMode): number {
  const x = o - begin;
  if (x >= 0 && x < n) return x;
  switch (mode) {
    case 'constant':
      return -1;
    case 'edge':
      return x < 0 ? 0 : n - 1;
    case 'wrap':
      return ((x % n) + n) % n;
    case 'reflect': {
      // numpy 'reflect': period 2(n-1), the edge element is not repeated.
      if (n === 1) return 0;
      const p = 2 * (n - 1);
      const m = ((x % p) + p) % p;
      return m < n ? m : p - m;
    }
  }
}

const Pad = defineOp(
  (inputs, attrs) => {
    const x = need(inputs, 0).type;
    const v = inputs[2];
    if (v && v.type.dtype !== x.dtype) fail(`constant_value must have the data's dtype ${x.dtype}, got ${v.type.dtype}`);
    return [{ dtype: x.dtype, shape: padPlan(inputs, attrs).shape }];
  },
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const plan = padPlan(asInfer(inputs), attrs);
    const st = stridesOf(x.shape);
    const offs = plan.shape.map((len, d) => {
      const t = new Int32Array(len);
      for (let o = 0; o < len; o++) {
        const s = padSource(o, plan.begin[d], x.shape[d], plan.mode);
        t[o] = s < 0 ? -1 : s * st[d];
      }
      return t;
    });
    const cv = inputs[2];
    const fill = plan.mode === 'constant' && cv && cv.size > 0 ? castScalar(cv.data[0], x.dtype) : 0;
    return [gatherAxes(x.data, x.dtype, plan.shape, offs, fill)];
  },
);

/** CenterCropPad: per axis, crop (centered, extra element dropped at the end) or zero-pad to `shape`. */
function cropPadPlan(inputs: (InferInput | undefined)[], attrs: Attrs): { shape: number[]; shift: number[] } {
  const x = need(inputs, 0).type;
  const target = intValues(constValue(inputs, 1, 'the shape input'), 'shape');
  const given = attrInts(attrs, 'axes');
  const axes = given ? normAxes(given, x.shape.length) : x.shape.map((_, i) => i);
  if (target.length !== axes.length) fail(`shape ${shapeStr(target)} must have one entry per axis (${axes.length})`);
  const shape = [...x.shape];
  const shift = new Array<number>(shape.length).fill(0);
  axes.forEach((a, i) => {
    const t = target[i];
    if (!Number.isInteger(t) || t < 0) fail(`shape ${shapeStr(target)} has an invalid dimension ${t}`);
    // input coordinate = output coordinate + shift (positive when cropping, negative when padding)
    shift[a] = x.shape[a] >= t ? Math.floor((x.shape[a] - t) / 2) : -Math.floor((t - x.shape[a]) / 2);
    shape[a] = t;
  });
  return { shape, shift };
}

const CenterCropPad = defineOp(
  (inputs, attrs) => [{ dtype: need(inputs, 0).type.dtype, shape: cropPadPlan(inputs, attrs).shape }],
  (inputs, attrs) => {
    const x = need(inputs, 0);
    const { shape, shift } = cropPadPlan(asInfer(inputs), attrs);
    const st = stridesOf(x.shape);
    const offs = shape.map((len, d) => {
      const t = new Int32Array(len);
      for (let o = 0; o < len; o++) {
        const s = o + shift[d];
        t[o] = s >= 0 && s < x.shape[d] ? s * st[d] : -1;
      }
      return t;
    });
    return [gatherAxes(x.data, x.dtype, shape, offs)];
  },
);

export const indexingOps: Record<string, OpDef> = {
  Slice,
  Pad,
  CenterCropPad,
  ...gatherOps,
  ...miscOps,
  ...selectOps,
};
