// Cross-entropy of the tied decoder without materialising all logits: rows are decoded in chunks, and the
// gradient of each chunk is formed right away (softmax minus one-hot), so peak memory is one chunk of
// logits instead of batch x sequence x vocabulary (1.07 GB in fp32 for bs 64 x 70 x 60,000, and as much
// again for its gradient).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>

namespace ulmfit {

struct DecoderLoss {
  at::Tensor sumCrossEntropy;  // 0-dim, summed over rows
  at::Tensor correct;          // 0-dim, rows whose argmax is the target (when asked)
  // With gradients: d(mean cross-entropy) with respect to the decoder input, weight and bias.
  at::Tensor dInput, dWeight, dBias;
};

// Rows per chunk so that one chunk of fp32 logits stays near 64 MB on the CPU, 1 GB on a GPU (at least 1 row).
int64_t DefaultChunkRows(int64_t vocabSize, const c10::Device& device);

// input [N, emb] (no autograd needed), weight [vocab, emb], bias [vocab], target [N] int64.
DecoderLoss DecoderCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& target,
                                int64_t chunkRows, bool withGrad, bool countCorrect);

}  // namespace ulmfit
