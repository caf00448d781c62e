// Turns tensor views into contiguous arrays. Every view is checked against its storage's bytes before a
// byte is copied, and the arrays handed out are budgeted: a small hostile file could otherwise ask for
// thousands of full views of one big storage, or a broadcast (stride 0) view of 10^12 elements.
import { CheckpointError } from './checkpoint-error.js';
import { DTYPES } from './dtypes.js';
import type { TorchStorage, TorchTensor } from './torch-values.js';

/** Output allowed beyond the storages' own size: broadcast views (stride 0) of small storages. */
const BROADCAST_ALLOWANCE = 64 * 1024 * 1024;
/** Output allowed per byte of storage: views of one storage (tied weights, slices), fp16 widened to fp32. */
const OUTPUT_PER_STORAGE_BYTE = 8;

/** Fills `data` of every tensor in `tensors` from `bytesOf(storage)` (exactly `storage.byteLength` bytes). */
export function materializeTensors(tensors: TorchTensor[], bytesOf: (storage: TorchStorage) => Uint8Array, file: string): void {
  const storages = new Set(tensors.map((t) => t.storage));
  let budget = BROADCAST_ALLOWANCE;
  for (const storage of storages) budget += OUTPUT_PER_STORAGE_BYTE * storage.byteLength;
  const sameView = new Map<string, TorchTensor>(); // a tied embedding and decoder share one array
  for (const tensor of tensors) {
    const key = [tensor.storage.key, tensor.dtype, tensor.storageOffset, tensor.shape, tensor.stride].join('|');
    const twin = sameView.get(key);
    if (twin) {
      tensor.data = twin.data;
      continue;
    }
    const numel = checkView(tensor, file);
    const size = DTYPES[tensor.dtype].size;
    const outputBytes = numel * (tensor.dtype === 'float16' || tensor.dtype === 'bfloat16' ? 4 : size);
    if (outputBytes > budget) {
      throw new CheckpointError(file, `tensor ${tensor.name} has ${numel} elements, far more than the checkpoint's storages hold`);
    }
    budget -= outputBytes;
    tensor.data = DTYPES[tensor.dtype].wrap(
      gather(bytesOf(tensor.storage), size, tensor.shape, tensor.stride, tensor.storageOffset, numel),
    );
    sameView.set(key, tensor);
  }
}

/** The view's element count, after checking that every element it reaches lies inside its storage. */
function checkView(tensor: TorchTensor, file: string): number {
  const { shape, stride, storageOffset } = tensor;
  const size = DTYPES[tensor.dtype].size;
  let numel = 1n;
  let last = BigInt(storageOffset); // the furthest element the view reaches (bigint: a hostile shape can overflow 2^53)
  for (let d = 0; d < shape.length; d++) {
    numel *= BigInt(shape[d]!);
    last += BigInt(shape[d]! - 1) * BigInt(stride[d]!);
  }
  if (numel === 0n) return 0;
  const needed = (last + 1n) * BigInt(size);
  if (needed > BigInt(tensor.storage.byteLength)) {
    const view = `shape [${shape}], stride [${stride}], offset ${storageOffset}`;
    throw new CheckpointError(
      file,
      `tensor ${tensor.name} (${view}) reaches byte ${needed} of storage ${tensor.storage.key}, which holds ${tensor.storage.byteLength}`,
    );
  }
  if (numel > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointError(file, `tensor ${tensor.name} has ${numel} elements`);
  return Number(numel);
}

/** The view's elements, packed row-major into a fresh buffer (so typed arrays over it are aligned). */
function gather(storage: Uint8Array, size: number, shape: number[], stride: number[], offset: number, numel: number): Uint8Array {
  const out = new Uint8Array(numel * size);
  if (numel === 0) return out;
  const dims = shape.length;
  const rowLength = dims ? shape[dims - 1]! : 1;
  const rowStride = dims ? stride[dims - 1]! : 1;
  const index = new Array<number>(Math.max(0, dims - 1)).fill(0); // position in the outer dimensions
  let start = offset; // storage element where the current row starts
  for (let o = 0; o < out.length; o += rowLength * size) {
    if (rowStride === 1 || rowLength === 1) out.set(storage.subarray(start * size, (start + rowLength) * size), o);
    else {
      for (let i = 0, from = start * size; i < rowLength; i++, from += rowStride * size) {
        for (let b = 0; b < size; b++) out[o + i * size + b] = storage[from + b]!;
      }
    }
    // Next row: advance the outer index like an odometer.
    for (let d = dims - 2; d >= 0; d--) {
      start += stride[d]!;
      if (++index[d]! < shape[d]!) break;
      start -= stride[d]! * shape[d]!;
      index[d] = 0;
    }
  }
  return out;
}
