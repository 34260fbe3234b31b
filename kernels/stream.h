// The CUDA stream handle, declared exactly as the CUDA runtime declares it, so that an op's header can declare its
// CUDA twin without CUDA headers (CPU-only builds include it too; only libaicl_cuda.so defines the functions).
#pragma once

struct CUstream_st;
typedef struct CUstream_st* cudaStream_t;
