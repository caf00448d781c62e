// The safetensors format (8-byte little-endian header length, a JSON header, then raw little-endian data),
// float32 and bfloat16 read (bf16 widened to float32, exactly); float32 or bfloat16 written, int64 too (for
// PyTorch's integer buffers); read defensively: a file from anywhere can name offsets, shapes and sizes, and each is
// checked before any byte is trusted.
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export class SafetensorsError extends Error {
  readonly code = 'ERR_ULMFIT_SAFETENSORS';
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'SafetensorsError';
  }
}

const MAX_HEADER = 100 * 1024 * 1024;

/** A tensor to write: float32, or int64 (BatchNorm's num_batches_tracked as PyTorch holds it). */
export interface EncodableTensor {
  name: string;
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/** How float32 tensors are stored: as they are, or rounded to bfloat16 (half the bytes; for shipping weights). */
export type FloatDtype = 'F32' | 'BF16';

/** float32 values rounded to the nearest bfloat16 (ties to even), as their 16-bit patterns; NaN stays NaN. */
export function toBf16(data: Float32Array): Uint16Array {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i]!;
    out[i] = (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : (u + 0x7fff + ((u >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** bfloat16 bit patterns widened to float32 (exact). */
function fromBf16(bytes: Buffer): Float32Array {
  const out = new Uint32Array(bytes.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readUInt16LE(2 * i) << 16;
  return new Float32Array(out.buffer);
}

/** The bytes of a safetensors file holding `tensors` (in the order given) and string metadata. */
export function encodeSafetensors(
  tensors: EncodableTensor[],
  metadata: Record<string, string> = {},
  floatDtype: FloatDtype = 'F32',
): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const stored = tensors.map((t) => (t.data instanceof Float32Array && floatDtype === 'BF16' ? toBf16(t.data) : t.data));
  let offset = 0;
  tensors.forEach((t, i) => {
    const data = stored[i]!;
    const dtype = data instanceof BigInt64Array ? 'I64' : data instanceof Uint16Array ? 'BF16' : 'F32';
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // data starts 8-byte aligned
  const head = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + head.length + offset);
  out.writeBigUInt64LE(BigInt(head.length), 0);
  head.copy(out, 8);
  let at = 8 + head.length;
  for (const data of stored) {
    Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, at);
    at += data.byteLength;
  }
  return out;
}

/** Reads every tensor of a float32 / bfloat16 safetensors file (as float32); `file` names it in errors. */
export function decodeSafetensors(bytes: Buffer, file: string): { tensors: Map<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new SafetensorsError(file, `too short for a safetensors file (${bytes.length} bytes)`);
  const headerLength = bytes.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER, bytes.length - 8))) {
    throw new SafetensorsError(file, `header length ${headerLength} does not fit in the file (${bytes.length} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(bytes.subarray(8, dataStart).toString('utf8'));
  } catch (err) {
    throw new SafetensorsError(file, `header is not JSON (${(err as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError(file, 'header is not an object');
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, NamedTensor>();
  const spans: [number, number, string][] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (entry && typeof entry === 'object') {
        for (const [k, v] of Object.entries(entry)) if (typeof v === 'string') metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e?.dtype !== 'F32' && e?.dtype !== 'BF16')
      throw new SafetensorsError(file, `tensor "${name}" has dtype ${String(e?.dtype)}; only F32 and BF16 are read`);
    const width = e.dtype === 'BF16' ? 2 : 4;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new SafetensorsError(file, `tensor "${name}" has an invalid shape`);
    }
    const offsets = e.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw new SafetensorsError(file, `tensor "${name}" has invalid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    const numel = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (end < begin || end > dataLength || end - begin !== numel * width) {
      throw new SafetensorsError(file, `tensor "${name}": data_offsets [${begin}, ${end}] do not fit its shape [${e.shape}] or the file`);
    }
    spans.push([begin, end, name]);
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    // Copy into an aligned buffer (the file's data need not be 4-byte aligned in memory).
    const data = width === 2 ? fromBf16(raw) : new Float32Array(numel);
    if (width === 4) Buffer.from(data.buffer).set(raw);
    tensors.set(name, { name, shape: e.shape as number[], data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i]![0] < spans[i - 1]![1]) throw new SafetensorsError(file, `tensors "${spans[i - 1]![2]}" and "${spans[i]![2]}" overlap`);
  }
  return { tensors, metadata };
}
