/* src/cuda/emu/sanitizer.h - whether this code is built with
 * AddressSanitizer, and its interface when it is. The emulation tells it
 * about fiber switches and poisons the slack around device allocations. */
#ifndef CNN_EMU_SANITIZER_H
#define CNN_EMU_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define CNN_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CNN_EMU_ASAN 1
#endif
#endif

#ifdef CNN_EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define CNN_EMU_NO_ASAN __attribute__((no_sanitize_address))
#else
#define CNN_EMU_NO_ASAN
#endif

#endif /* CNN_EMU_SANITIZER_H */
