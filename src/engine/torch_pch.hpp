// Precompiled header for the translation units that use LibTorch.
#pragma once
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>
