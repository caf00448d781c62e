// The LibTorch headers the addon uses. Deliberately narrower than <torch/torch.h> (which pulls in the whole
// C++ frontend and costs about 20 s per translation unit): ATen is the tensor library, c10 has the errors.
#pragma once

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/GradMode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>
