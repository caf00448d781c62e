// The tensor element types this reader materializes: torch's name, bytes per element, the legacy storage
// class that carries it in pickles, and how elements come back to JS. Float types come back as Float32Array
// (float16 and bfloat16 widen exactly), except float64, which keeps its precision in a Float64Array; int64
// comes back as BigInt64Array (exact: token ids and counters can pass 2^53 in principle, and a silent
// narrowing would be worse than a bigint); bool as 0/1 bytes.
export type TorchDType =
  'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool' | 'uint16' | 'uint32' | 'uint64';

export type TensorData =
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array;

interface DTypeInfo {
  size: 1 | 2 | 4 | 8;
  /** The torch.<X>Storage class that pickles name for this dtype (torch < 2.3 dtypes only). */
  storageClass?: string;
  /** The JS array for `count` elements whose raw little-endian bytes are in `bytes` (its length exactly). */
  wrap(bytes: Uint8Array): TensorData;
}

// `bytes` always arrives in a fresh ArrayBuffer of its own (see tensor-data.ts), so these views are aligned.
const view =
  <T>(make: new (buffer: ArrayBuffer, offset: number, length: number) => T, size: number) =>
  (bytes: Uint8Array) =>
    new make(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.length / size);

export const DTYPES: Record<TorchDType, DTypeInfo> = {
  float32: { size: 4, storageClass: 'FloatStorage', wrap: view(Float32Array, 4) },
  float16: { size: 2, storageClass: 'HalfStorage', wrap: (b) => halfToFloat(view(Uint16Array, 2)(b)) },
  bfloat16: { size: 2, storageClass: 'BFloat16Storage', wrap: (b) => bfloat16ToFloat(view(Uint16Array, 2)(b)) },
  float64: { size: 8, storageClass: 'DoubleStorage', wrap: view(Float64Array, 8) },
  int64: { size: 8, storageClass: 'LongStorage', wrap: view(BigInt64Array, 8) },
  int32: { size: 4, storageClass: 'IntStorage', wrap: view(Int32Array, 4) },
  int16: { size: 2, storageClass: 'ShortStorage', wrap: view(Int16Array, 2) },
  int8: { size: 1, storageClass: 'CharStorage', wrap: view(Int8Array, 1) },
  uint8: { size: 1, storageClass: 'ByteStorage', wrap: view(Uint8Array, 1) },
  bool: { size: 1, storageClass: 'BoolStorage', wrap: (b) => b.map((v) => (v ? 1 : 0)) },
  uint16: { size: 2, wrap: view(Uint16Array, 2) },
  uint32: { size: 4, wrap: view(Uint32Array, 4) },
  uint64: { size: 8, wrap: view(BigUint64Array, 8) },
};

export const isTorchDType = (name: string): name is TorchDType => Object.hasOwn(DTYPES, name);

/** The dtype a torch.<X>Storage class name carries, if it is one we read. */
export function dtypeOfStorageClass(className: string): TorchDType | undefined {
  for (const [dtype, info] of Object.entries(DTYPES)) if (info.storageClass === className) return dtype as TorchDType;
  return undefined;
}

/** IEEE half -> single, bit for bit (subnormals, infinities and NaN payloads included). */
function halfToFloat(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) {
    const h = half[i]!;
    const sign = (h & 0x8000) << 16;
    const exponent = (h >> 10) & 0x1f;
    let mantissa = h & 0x3ff;
    if (exponent === 0x1f) bits[i] = sign | 0x7f800000 | (mantissa << 13);
    else if (exponent !== 0) bits[i] = sign | ((exponent + 112) << 23) | (mantissa << 13);
    else if (mantissa === 0) bits[i] = sign;
    else {
      // Subnormal half: normalize; it is a normal single.
      let e = 113;
      while (!(mantissa & 0x400)) {
        mantissa <<= 1;
        e--;
      }
      bits[i] = sign | (e << 23) | ((mantissa & 0x3ff) << 13);
    }
  }
  return out;
}

/** bfloat16 is the top half of a float32. */
function bfloat16ToFloat(half: Uint16Array): Float32Array {
  const out = new Float32Array(half.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < half.length; i++) bits[i] = half[i]! << 16;
  return out;
}
