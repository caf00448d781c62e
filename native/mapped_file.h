// Read-only memory maps of files, for token streams larger than memory (Node has no mmap). A mapping lives
// as long as any ArrayBuffer viewing it: views hold a shared reference, so nothing JS keeps can dangle.
#pragma once

#include <napi.h>

namespace ulmfit {

// mapFile(path) -> { byteLength, view(byteOffset, byteLength) -> ArrayBuffer }
Napi::Value MapFile(const Napi::CallbackInfo& info);

}  // namespace ulmfit
