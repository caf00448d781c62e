#include "lm_loss.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/log_softmax.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <algorithm>

namespace ulmfit {

int64_t DefaultChunkRows(int64_t vocabSize, const c10::Device& device) {
  // A GPU has the memory for far larger chunks, and each chunk is a dozen kernel launches.
  const int64_t elements = device.is_cuda() ? int64_t{256} << 20 : int64_t{16} << 20;
  return std::max<int64_t>(1, elements / vocabSize);
}

DecoderLoss DecoderCrossEntropy(const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& target,
                                int64_t chunkRows, bool withGrad, bool countCorrect) {
  at::NoGradGuard noGrad;
  const int64_t rows = input.size(0);
  const auto scalar = input.options().dtype(at::kFloat);
  DecoderLoss out{at::zeros({}, scalar), at::zeros({}, scalar.dtype(at::kLong)), {}, {}, {}};
  const at::Tensor w = weight.detach(), b = bias.detach(), x = input.detach();
  if (withGrad) {
    out.dInput = at::empty_like(x);
    out.dWeight = at::zeros_like(w);
    out.dBias = at::zeros_like(b);
  }
  for (int64_t start = 0; start < rows; start += chunkRows) {
    const int64_t n = std::min(chunkRows, rows - start);
    const at::Tensor xc = x.narrow(0, start, n);
    const at::Tensor tc = target.narrow(0, start, n).unsqueeze(1);
    at::Tensor logProbs = at::log_softmax(at::linear(xc, w, b).to(at::kFloat), 1);
    const at::Tensor picked = logProbs.gather(1, tc);  // log-probability of each row's target
    out.sumCrossEntropy -= picked.sum();
    if (countCorrect) out.correct += (at::argmax(logProbs, 1, /*keepdim=*/true) == tc).sum();
    if (withGrad) {
      // d(mean CE)/d(logits) = (softmax - one_hot(target)) / rows, formed in place of the log-probabilities.
      at::Tensor dLogits = logProbs.exp_();
      dLogits.scatter_(1, tc, picked.exp() - 1.0);
      dLogits.div_(static_cast<double>(rows));
      const at::Tensor dl = dLogits.to(x.scalar_type());
      out.dInput.narrow(0, start, n).copy_(at::matmul(dl, w));
      out.dWeight.add_(at::matmul(dl.t(), xc));
      out.dBias.add_(dl.sum(0));
    }
  }
  return out;
}

}  // namespace ulmfit
