#include "bpt3c.h"

#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/full.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <string>

#include "errors.h"
#include "transfer.h"

namespace ulmfit {

namespace {

// Where each row's text starts in fastai's layout: after whole chunks of front padding.
int64_t TextStart(int64_t length, int64_t n, int64_t seqLen) { return (length - n) / seqLen * seqLen; }

// [k, ...] -> [bs, ...] with `value` in the rows that have not joined yet.
at::Tensor PadRows(const at::Tensor& x, int64_t bs, double value) {
  if (x.size(0) == bs) return x;
  return at::constant_pad_nd(x, {0, 0, 0, bs - x.size(0)}, value);
}

// The hidden state grown to k rows: rows joining now start from zeros.
void GrowState(LstmState& state, const AwdLstm& encoder, int64_t k) {
  if (state.empty()) {
    state = encoder.ZeroState(k);
    return;
  }
  const int64_t have = state[0].first.size(1);
  if (have == k) return;
  for (auto& [h, c] : state) {
    h = at::constant_pad_nd(h, {0, 0, 0, k - have}, 0.0);
    c = at::constant_pad_nd(c, {0, 0, 0, k - have}, 0.0);
  }
}

// Per-row masks for the first k rows (the rows of a chunk); whole-matrix masks as they are.
DropoutMasks FirstRows(const DropoutMasks& m, int64_t k) {
  DropoutMasks out = m;
  const auto rows = [k](const at::Tensor& t) { return t.defined() ? t.narrow(0, 0, k) : t; };
  out.input = rows(m.input);
  for (auto& h : out.hidden) h = rows(h);
  out.output = rows(m.output);
  return out;
}

}  // namespace

void CheckLayout(const int32_t* tokens, int64_t rows, int64_t length, const int32_t* lengths, int64_t seqLen, int64_t padId) {
  for (int64_t r = 0; r < rows; r++) {
    const int64_t n = lengths[r];
    if (n < 1 || n > length) {
      throw ArgumentError("lengths[" + std::to_string(r) + "] = " + std::to_string(n) + ": every document needs from 1 to " +
                          std::to_string(length) + " tokens (the batch's length)");
    }
    const int64_t start = TextStart(length, n, seqLen), end = start + n;
    for (int64_t p = 0; p < length; p++) {
      if ((p < start || p >= end) && tokens[r * length + p] != padId) {
        throw ArgumentError("tokens row " + std::to_string(r) + ", position " + std::to_string(p) + " holds id " +
                            std::to_string(tokens[r * length + p]) + " where the layout puts padding (" + std::to_string(padId) +
                            "): with lengths[" + std::to_string(r) + "] = " + std::to_string(n) + ", length " + std::to_string(length) +
                            " and seqLen " + std::to_string(seqLen) + " its text is at [" + std::to_string(start) + ", " +
                            std::to_string(end) + ")");
      }
    }
  }
}

Encoded EncodeAndPool(AwdLstm& encoder, const at::Tensor& tokensIn, const std::vector<int64_t>& lengths, const Bpt3cOptions& options,
                      const DropoutMasks* masksIn, bool regularise) {
  const int64_t bs = tokensIn.size(0), length = tokensIn.size(1), seqLen = options.seqLen;
  const int64_t maxLen = options.maxLen > 0 ? options.maxLen : std::numeric_limits<int64_t>::max();

  // Rows in the order they join (text start ascending; the data pipeline's longest-first batches already
  // are), so that the rows of every chunk are a prefix.
  std::vector<int64_t> order(bs);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return TextStart(length, lengths[a], seqLen) < TextStart(length, lengths[b], seqLen); });
  const bool reordered = !std::is_sorted(order.begin(), order.end());
  at::Tensor tokens = tokensIn;
  std::optional<DropoutMasks> reorderedMasks;
  const DropoutMasks* masks = masksIn;
  const auto device = tokensIn.device();
  if (reordered) {
    const at::Tensor orderT = Int64OnDevice(order, device);
    tokens = tokensIn.index_select(0, orderT);
    if (masksIn) {
      reorderedMasks = *masksIn;
      const auto rows = [&](at::Tensor& t) {
        if (t.defined()) t = t.index_select(0, orderT);
      };
      rows(reorderedMasks->input);
      for (auto& h : reorderedMasks->hidden) rows(h);
      rows(reorderedMasks->output);
      masks = &*reorderedMasks;
    }
  }

  // Per row (join order): text [start, end), pooled window [window, end).
  std::vector<int64_t> start(bs), end(bs), window(bs);
  Encoded encoded;
  for (int64_t i = 0; i < bs; i++) {
    const int64_t n = lengths[order[i]];
    start[i] = TextStart(length, n, seqLen);
    end[i] = start[i] + n;
    window[i] = std::max(start[i], end[i] - std::min(maxLen, n));
    encoded.positions += end[i] - window[i];
    encoded.pairs += end[i] - window[i] - 1;
  }
  const at::Tensor endT = Int64OnDevice(end, device), windowT = Int64OnDevice(window, device);
  const at::Tensor count = (endT - windowT).to(at::kFloat).unsqueeze(1);

  const int64_t emb = encoder.options().embSize;
  const auto floatOptions = encoder.embedding().options().dtype(at::kFloat).requires_grad(false);
  at::Tensor maxPool = at::full({bs, emb}, -std::numeric_limits<float>::infinity(), floatOptions);
  at::Tensor sumPool = at::zeros({bs, emb}, floatOptions);
  at::Tensor lastOut = at::zeros({bs, emb}, floatOptions);
  if (regularise) {
    encoded.activationSquares = at::zeros({}, floatOptions);
    encoded.changeSquares = at::zeros({}, floatOptions);
  }
  at::Tensor previousLast;  // [rows, emb]: the last position's output of the chunk before, while it is pooled

  LstmState state;
  int64_t k = 0;  // rows that have joined
  for (int64_t i = 0; i < length; i += seqLen) {
    const int64_t c = std::min(seqLen, length - i);
    while (k < bs && start[k] <= i) k++;
    if (k == 0) continue;
    bool inWindow = false, holdsLast = false;
    for (int64_t r = 0; r < k; r++) {
      inWindow = inWindow || (window[r] < i + c && end[r] > i);
      holdsLast = holdsLast || (end[r] - 1 >= i && end[r] - 1 < i + c);
    }
    GrowState(state, encoder, k);
    std::optional<at::NoGradGuard> noGrad;
    if (!inWindow) noGrad.emplace();  // only carries the state forward
    std::optional<DropoutMasks> chunkMasks;
    if (masks) chunkMasks = options.masksPerChunk && i > 0 ? encoder.DrawMasks(k, nullptr) : FirstRows(*masks, k);
    const at::Tensor out = encoder.Forward(tokens.narrow(0, 0, k).narrow(1, i, c), state, chunkMasks ? &*chunkMasks : nullptr).rawLast;
    if (!inWindow) {
      previousLast = at::Tensor();
      continue;
    }

    const at::Tensor raw = out.to(at::kFloat);  // pooled in fp32 whatever the precision
    const at::Tensor pos = at::arange(i, i + c, endT.options()).unsqueeze(0);
    const at::Tensor kept = (pos >= windowT.narrow(0, 0, k).unsqueeze(1)) & (pos < endT.narrow(0, 0, k).unsqueeze(1));
    const at::Tensor keptF = kept.unsqueeze(2);
    const at::Tensor chunkMax = raw.masked_fill(~keptF, -std::numeric_limits<float>::infinity()).amax(1);
    maxPool = at::maximum(maxPool, PadRows(chunkMax, bs, -std::numeric_limits<double>::infinity()));
    sumPool = sumPool + PadRows((raw * keptF).sum(1), bs, 0.0);
    if (holdsLast) {
      const at::Tensor isLast = (pos == endT.narrow(0, 0, k).unsqueeze(1) - 1).unsqueeze(2);
      lastOut = lastOut + PadRows((raw * isLast).sum(1), bs, 0.0);
    }
    if (regularise) {
      encoded.activationSquares = encoded.activationSquares + (raw * raw * keptF).sum();
      if (c > 1) {
        const at::Tensor pair = (kept.narrow(1, 1, c - 1) & kept.narrow(1, 0, c - 1)).unsqueeze(2);
        const at::Tensor change = raw.narrow(1, 1, c - 1) - raw.narrow(1, 0, c - 1);
        encoded.changeSquares = encoded.changeSquares + (change * change * pair).sum();
      }
      if (previousLast.defined()) {
        // The pair (i - 1, i) across the chunk boundary, for the rows of the chunk before (a row that joins
        // now starts its text at i, so none of its windows holds i - 1).
        const int64_t before = previousLast.size(0);
        const at::Tensor pair = ((windowT.narrow(0, 0, before) <= i - 1) & (endT.narrow(0, 0, before) > i)).unsqueeze(1);
        const at::Tensor change = raw.narrow(0, 0, before).select(1, 0) - previousLast;
        encoded.changeSquares = encoded.changeSquares + (change * change * pair).sum();
      }
      previousLast = raw.select(1, c - 1);
    }
  }
  encoded.features = at::cat({lastOut, maxPool, sumPool / count}, 1);
  if (reordered) {
    std::vector<int64_t> inverse(bs);
    for (int64_t i = 0; i < bs; i++) inverse[order[i]] = i;
    encoded.features = encoded.features.index_select(0, Int64OnDevice(inverse, device));
  }
  return encoded;
}

}  // namespace ulmfit
