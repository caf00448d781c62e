// Our own JS stand-ins for the torch objects a checkpoint pickles: the allow-listed globals resolve to
// these (see torch-globals.ts), never to anything of Python's.
import { DTYPES, type TensorData, type TorchDType } from './dtypes.js';

/** A torch.<X>Storage class (or torch.UntypedStorage) named in a persistent id: it only says the dtype. */
export class StorageClass {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: TorchDType,
  ) {}
}

/** A torch.dtype object pickled as a value (torch.float16, ...). */
export class TorchDtypeValue {
  constructor(readonly name: string) {}
}

/** One storage of the checkpoint: `key` names its bytes (archive/data/<key>, or its place in a legacy file). */
export class TorchStorage {
  constructor(
    readonly key: string,
    readonly dtype: TorchDType,
    readonly numel: number,
    readonly location: string, // where it lived when saved ('cpu', 'cuda:0'); the bytes are the same
  ) {}

  get byteLength(): number {
    return this.numel * DTYPES[this.dtype].size;
  }
}

/**
 * A tensor of the checkpoint: a view (`storageOffset`, `shape`, `stride`, in elements, as torch saved it) of
 * `storage`, and `data`, its elements packed contiguously in row-major order (see dtypes.ts for the array
 * type per dtype). Tensors that are the same view of the same storage (a tied embedding and decoder) share
 * one `data` array, as they share memory in torch. `name` is the path of keys that first reaches it from the
 * top-level object, joined with '.' ('0.encoder.weight', 'model.1.decoder.bias').
 */
export class TorchTensor {
  name = '';
  data: TensorData = new Float32Array(0);
  constructor(
    readonly dtype: TorchDType,
    readonly shape: number[],
    readonly stride: number[],
    readonly storageOffset: number,
    readonly storage: TorchStorage,
    readonly requiresGrad: boolean,
    readonly isParameter: boolean,
  ) {}
}
