// Data-parallel training on PyTorch's c10d: a process group joins the ranks of one job (rendezvous through a
// TCPStore that rank 0 serves, then Gloo between CPUs or NCCL between GPUs), with torchrun's conventions for where each rank learns
// its place: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT. A model attached to a group averages its
// gradients over the ranks inside each native training step, between backward and clipping.
import { z } from 'zod';

import type { EngineModel, NativeEngine } from '../model/engine.js';
import { engineOf } from '../model/engine.js';
import { native } from '../native/loader.js';
import { validate } from '../options.js';

const Port = z.number().int().min(1).max(65535);

export const ProcessGroupOptionsSchema = z
  .object({
    rank: z.number().int().nonnegative().describe('this process: 0 .. worldSize - 1 (default: RANK)'),
    worldSize: z.number().int().positive().describe('processes in the job (default: WORLD_SIZE)'),
    masterAddr: z.string().min(1).describe("rank 0's address, where its rendezvous store listens (default: MASTER_ADDR)"),
    masterPort: Port.describe("that store's port (default: MASTER_PORT)"),
    timeoutMs: z
      .number()
      .int()
      .positive()
      .default(300_000)
      .describe('how long a rank waits for the others, in the rendezvous and in every collective'),
    backend: z
      .enum(['gloo', 'nccl'])
      .default('gloo')
      .describe("gloo between CPUs; nccl between GPUs (a CUDA build with NCCL's headers: info().distributed.nccl)"),
    device: z.number().int().nonnegative().optional().describe("an nccl rank's CUDA device (default: LOCAL_RANK)"),
  })
  .refine((o) => o.rank < o.worldSize, { message: 'rank must be below worldSize', path: ['rank'] });

export type ProcessGroupOptionsInput = z.input<typeof ProcessGroupOptionsSchema>;
export type ProcessGroupOptions = z.output<typeof ProcessGroupOptionsSchema>;

/** The engine's process group (native/process_group.cc). */
export interface NativeProcessGroup {
  connect(): Promise<void>;
  allReduce<T extends Float32Array | Float64Array>(data: T): Promise<T>;
  dispose(): void;
}

/** What the environment says, torchrun's way; an option given explicitly wins. A variable that is set but not a number is an error. */
export function processGroupOptionsFromEnv(
  options: Partial<ProcessGroupOptionsInput> = {},
  env: NodeJS.ProcessEnv = process.env,
): ProcessGroupOptions {
  const number = (name: string) => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new RangeError(`process group: ${name}="${v}" is not an integer`);
    return n;
  };
  const fromEnv = {
    rank: number('RANK'),
    worldSize: number('WORLD_SIZE'),
    masterAddr: env.MASTER_ADDR || undefined,
    masterPort: number('MASTER_PORT'),
  };
  const merged = { ...Object.fromEntries(Object.entries(fromEnv).filter(([, v]) => v !== undefined)), ...options };
  for (const [field, variable] of [
    ['rank', 'RANK'],
    ['worldSize', 'WORLD_SIZE'],
    ['masterAddr', 'MASTER_ADDR'],
    ['masterPort', 'MASTER_PORT'],
  ] as const)
    if ((merged as Record<string, unknown>)[field] === undefined)
      throw new RangeError(`process group: ${field} is not given and ${variable} is not set (ulmfit launch and torchrun set it)`);
  return validate(ProcessGroupOptionsSchema, merged, 'process group options');
}

/** A connected group of ranks. */
export class ProcessGroup {
  readonly rank: number;
  readonly worldSize: number;
  /** @internal the engine's object, for models to attach */
  readonly native: NativeProcessGroup;

  private constructor(o: ProcessGroupOptions, group: NativeProcessGroup) {
    this.rank = o.rank;
    this.worldSize = o.worldSize;
    this.native = group;
  }

  /** Joins the job's other ranks: resolves once every rank has connected, or rejects naming those that did not. */
  static async connect(options: Partial<ProcessGroupOptionsInput> = {}): Promise<ProcessGroup> {
    const o = processGroupOptionsFromEnv(options);
    const Group = native().ProcessGroup;
    const device = o.backend === 'nccl' ? (o.device ?? Number(process.env.LOCAL_RANK ?? 0)) : -1;
    const group = new Group({ ...o, device });
    await group.connect();
    return new ProcessGroup(o, group);
  }

  /**
   * The group a worker started by `ulmfit launch` or torchrun belongs to (WORLD_SIZE above 1 in the
   * environment), connected; null for a process on its own.
   */
  static async fromEnvironment(
    options: Partial<ProcessGroupOptionsInput> = {},
    env: NodeJS.ProcessEnv = process.env,
  ): Promise<ProcessGroup | null> {
    if (env.WORLD_SIZE === undefined || env.WORLD_SIZE === '' || env.WORLD_SIZE === '1') return null;
    return ProcessGroup.connect(processGroupOptionsFromEnv(options, env));
  }

  /**
   * The element-wise sum of `data` over the ranks, in its own precision (every rank calls it, in the same order
   * as its other collectives).
   */
  allReduce<T extends Float32Array | Float64Array>(data: T): Promise<T> {
    if (!(data instanceof Float32Array) && !(data instanceof Float64Array))
      throw new TypeError('allReduce: data must be a Float32Array or a Float64Array');
    return this.native.allReduce(data);
  }

  /** Every training step of `model` averages its gradients over the ranks from now on. */
  attach(model: EngineModel<NativeEngine>): void {
    engineOf(model).attachProcessGroup(this.native);
  }

  /** `model` trains on its own gradients again. */
  detach(model: EngineModel<NativeEngine>): void {
    engineOf(model).attachProcessGroup(null);
  }

  /** Every rank's model takes rank `root`'s weights and buffers (identical starting points). */
  broadcastModel(model: EngineModel<NativeEngine>, root = 0): Promise<void> {
    if (!Number.isInteger(root) || root < 0 || root >= this.worldSize)
      throw new RangeError(`broadcastModel: root must be a rank from 0 to ${this.worldSize - 1}, got ${root}`);
    return engineOf(model).broadcastFrom(this.native, root);
  }

  dispose(): void {
    this.native.dispose();
  }
}
