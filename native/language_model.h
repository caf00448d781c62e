// The language model as a JS class: an AWD-LSTM, its group optimizer and its hidden states, with fused
// train and eval steps that run off the JS thread. One step in flight per model; a model's memory lives
// as long as the JS object or a step that holds it, whichever is longer (dispose() lets go early).
#pragma once

#include <napi.h>

namespace ulmfit {

Napi::Function DefineLanguageModel(Napi::Env env);

}  // namespace ulmfit
