// Small tensor jobs on typed arrays, run off the JS thread: a matrix product (the smallest end-to-end check
// of an install) and a matrix-multiply throughput probe.
import { z } from 'zod';

import { DeviceSchema } from './device.js';
import type { NativeTensor } from './native/addon.js';
import { native } from './native/loader.js';
import { validate } from './options.js';

const ShapeSchema = z.array(z.number().int().nonnegative()).min(1).max(8);

// Any Float32Array, whatever buffer backs it (an ArrayBuffer or a SharedArrayBuffer).
const Float32ArraySchema = z.custom<Float32Array>((v) => v instanceof Float32Array, { message: 'must be a Float32Array' });

const MatmulInputSchema = z.object({
  a: Float32ArraySchema,
  aShape: ShapeSchema,
  b: Float32ArraySchema,
  bShape: ShapeSchema,
  device: DeviceSchema.default('cpu'),
});

export type MatmulInput = z.input<typeof MatmulInputSchema>;

/** LibTorch's matmul of two float32 tensors given as data + shape; shape errors come from LibTorch. */
export async function matmul(input: MatmulInput): Promise<NativeTensor> {
  const { a, aShape, b, bShape, device } = validate(MatmulInputSchema, input, 'matmul');
  return native().matmul(a, aShape, b, bShape, device);
}

const RandnInputSchema = z.object({ shape: ShapeSchema, device: DeviceSchema.default('cpu') });

/** Standard-normal float32 samples from LibTorch's default generator (seeded by setSeed). */
export async function randn(input: z.input<typeof RandnInputSchema>): Promise<NativeTensor> {
  const { shape, device } = validate(RandnInputSchema, input, 'randn');
  return native().randn(shape, device);
}

export const BenchmarkMatmulSchema = z.object({
  size: z.number().int().min(1).max(16384).default(512),
  iterations: z.number().int().min(1).max(1_000_000).default(10),
  device: DeviceSchema.default('cpu'),
});

export type BenchmarkMatmulOptions = z.input<typeof BenchmarkMatmulSchema>;

/** Times `iterations` float32 size x size matrix products; returns seconds, GFLOP/s and the threads used. */
export async function benchmarkMatmul(options: BenchmarkMatmulOptions = {}) {
  const { size, iterations, device } = validate(BenchmarkMatmulSchema, options, 'benchmarkMatmul options');
  return native().benchmarkMatmul(size, iterations, device);
}
