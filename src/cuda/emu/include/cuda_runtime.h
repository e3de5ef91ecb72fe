/* cuda_runtime.h - the CPU emulation of CUDA, standing in for the
 * toolkit's header of this name in the CNN_CUDA_EMULATION build only (this
 * folder is on the include path of that build and no other). It gives the
 * subset of CUDA that our kernels and launchers use: docs/emulation.md.
 * Vendor libraries (cuBLAS, cuDNN, NCCL) are not emulated. */
#ifndef CNN_EMU_CUDA_RUNTIME_H
#define CNN_EMU_CUDA_RUNTIME_H

#ifndef __cplusplus
#error "the CUDA emulation is C++: compile CUDA sources as C++"
#endif

#include "cnn_emu/atomics.h"
#include "cnn_emu/control.h"
#include "cnn_emu/device.h"
#include "cnn_emu/intrinsics.h"
#include "cnn_emu/launch.h"
#include "cnn_emu/runtime_api.h"
#include "cnn_emu/types.h"

#endif /* CNN_EMU_CUDA_RUNTIME_H */
