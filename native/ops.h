// Small tensor operations on typed arrays: a matrix product (the smallest real LibTorch job, used to check an
// install end to end) and a matrix-multiply throughput probe (used by `ulmfit info` and the benchmarks).
#pragma once

#include <napi.h>

namespace ulmfit {

// matmul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], device: string)
//   -> Promise<{ data: Float32Array, shape: number[] }>
Napi::Value Matmul(const Napi::CallbackInfo& info);

// randn(shape: number[], device: string) -> Promise<{ data: Float32Array, shape: number[] }>
// Standard-normal samples from LibTorch's default generator (what setSeed seeds).
Napi::Value Randn(const Napi::CallbackInfo& info);

// benchmarkMatmul(size: number, iterations: number, device: string)
//   -> Promise<{ seconds: number, gflops: number, device: string, threads: number }>
// `threads` is the intra-op thread count LibTorch used on the worker thread.
Napi::Value BenchmarkMatmul(const Napi::CallbackInfo& info);

}  // namespace ulmfit
