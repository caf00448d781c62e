// BPT3C (back-propagation through time for text classification): a batch of documents in fastai's layout
// (padding at the front in whole chunks of seqLen, the rest at the end) goes through the encoder one chunk
// of seqLen at a time, the hidden state carried and detached between chunks, each row joining with a zero
// state at its first chunk. Every document pools over its own last maxLen tokens, whatever its batch mates
// (fastai decides the window from the padded batch length instead): [output at its last token, max, mean]
// over those positions, pads never included. Chunks outside every row's window run without autograd, so
// memory is bounded by maxLen, not by document length.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "awd_lstm.h"

namespace ulmfit {

struct Bpt3cOptions {
  int64_t seqLen = 72;
  int64_t maxLen = 1440;  // 0: the whole document
};

// Checks that host token ids are laid out as the engine expects (pads where the layout puts them) and that
// every length is in [1, length]; throws an ArgumentError naming the row and position.
void CheckLayout(const int32_t* tokens, int64_t rows, int64_t length, const int32_t* lengths, int64_t seqLen, int64_t padId);

// tokens [bs, L] int64 on the encoder's device, lengths (host) per row; masks (training) come from
// AwdLstm::DrawMasks for bs rows, in the same row order as tokens. Returns [bs, 3 x emb] float32 features.
at::Tensor EncodeAndPool(AwdLstm& encoder, const at::Tensor& tokens, const std::vector<int64_t>& lengths, const Bpt3cOptions& options,
                         const DropoutMasks* masks);

}  // namespace ulmfit
