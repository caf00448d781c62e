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
  // From the caller (ReadOptions in classifier.cc): the defaults live in the TypeScript schemas alone.
  int64_t seqLen = 0;
  int64_t maxLen = 0;  // 0: the whole document
  // Training: new dropout masks for every chunk after the first (fastai's: each chunk is its own forward),
  // instead of one set per document for all its chunks.
  bool masksPerChunk = false;
};

// Checks that host token ids are laid out as the engine expects (pads where the layout puts them) and that
// every length is in [1, length]; throws an ArgumentError naming the row and position.
void CheckLayout(const int32_t* tokens, int64_t rows, int64_t length, const int32_t* lengths, int64_t seqLen, int64_t padId);

// What a batch's encoding gives the classifier: the pooled features and, when asked, the sums AR and TAR
// (the activation regularisers of the language model, on the classifier's encoder) are means of: over
// every position of every document's window, its last-layer output squared; over every pair of
// consecutive positions in a window (across chunk boundaries too), the square of their difference.
struct Encoded {
  at::Tensor features;           // [bs, 3 x emb] float32
  at::Tensor activationSquares;  // 0-dim float32, sum of out^2 over window positions (when asked)
  at::Tensor changeSquares;      // 0-dim float32, sum of (out[p] - out[p-1])^2 over window pairs (when asked)
  int64_t positions = 0;         // window positions in the batch (each of emb values)
  int64_t pairs = 0;             // consecutive window pairs in the batch
};

// tokens [bs, L] int64 on the encoder's device, lengths (host) per row; masks (training) come from
// AwdLstm::DrawMasks for bs rows, in the same row order as tokens. `regularise` adds the AR/TAR sums.
Encoded EncodeAndPool(AwdLstm& encoder, const at::Tensor& tokens, const std::vector<int64_t>& lengths, const Bpt3cOptions& options,
                      const DropoutMasks* masks, bool regularise);

}  // namespace ulmfit
