import type { io } from '@tensorflow/tfjs-core';

/** Storage precision of saved float32 weights. */
export type WeightPrecision = 'float32' | 'float16';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 half-precision bits of a float32 value, rounded to nearest even. */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> Inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 in, round to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  mant >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && mant & 1)) {
    mant++;
    if (mant === 0x400) {
      mant = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mant;
}

function concat(data: io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  if (!Array.isArray(data)) return data;
  const out = new Uint8Array(data.reduce((n, b) => n + b.byteLength, 0));
  let off = 0;
  for (const b of data) {
    out.set(new Uint8Array(b), off);
    off += b.byteLength;
  }
  return out.buffer;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/**
 * Re-encodes the float32 model weights of a save as float16 and marks them with the manifest's
 * `quantization: { dtype: 'float16' }`, which every TensorFlow.js loader decodes back to float32.
 * Halves the weight file; optimizer state (group `optimizer`) and non-float weights stay as they
 * are so that resumed training is exact.
 */
export function quantizeArtifacts(artifacts: io.ModelArtifacts, precision: WeightPrecision): io.ModelArtifacts {
  if (precision === 'float32' || !artifacts.weightSpecs) return artifacts;
  const source = new Uint8Array(concat(artifacts.weightData));
  const chunks: Uint8Array[] = [];
  const specs: io.WeightsManifestEntry[] = [];
  let offset = 0;
  for (const spec of artifacts.weightSpecs) {
    if (spec.quantization) throw new Error(`quantizeArtifacts: weight ${spec.name} is already quantized`);
    if (spec.dtype === 'string') throw new Error(`quantizeArtifacts: weight ${spec.name} has dtype string, which cannot be stored at reduced precision`);
    const size = spec.shape.reduce((a, b) => a * b, 1);
    const bytes = size * (BYTES[spec.dtype] ?? 4);
    const slice = source.subarray(offset, offset + bytes);
    offset += bytes;
    if (spec.dtype !== 'float32' || spec.group === 'optimizer') {
      chunks.push(slice);
      specs.push(spec);
      continue;
    }
    const values = new Float32Array(slice.slice().buffer);
    const half = new Uint16Array(size);
    for (let i = 0; i < size; i++) half[i] = toFloat16Bits(values[i]!);
    chunks.push(new Uint8Array(half.buffer));
    specs.push({ ...spec, quantization: { dtype: 'float16' } });
  }
  if (offset !== source.byteLength) {
    throw new Error(`quantizeArtifacts: weight specs describe ${offset} bytes but the weight data has ${source.byteLength}`);
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return { ...artifacts, weightSpecs: specs, weightData: out.buffer };
}
