// The ULMFiT classifier as a JS class: the AWD-LSTM encoder read with BPT3C, masked concat pooling and the
// BatchNorm/Dropout/Linear head, its five layer groups [embedding, rnn0, rnn1, rnn2, head] and their
// optimizer, with train, eval and predict steps that run off the JS thread (one in flight per model).
#pragma once

#include <napi.h>

namespace ulmfit {

Napi::Function DefineClassifier(Napi::Env env);

}  // namespace ulmfit
