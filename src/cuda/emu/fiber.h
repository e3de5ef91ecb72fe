/* src/cuda/emu/fiber.h - user-space threads for the CUDA emulation: every
 * thread of an emulated block is a fiber on its own small stack, and a
 * worker thread switches between them without a system call.
 *
 * A fiber_home is the worker thread's own stack, which fibers switch back
 * to. A fiber runs `entry(arg)` when first entered and finishes by
 * switching home for good. Stacks come from mmap with a guard page below,
 * so an overflowing emulated thread faults instead of corrupting memory.
 * Under AddressSanitizer every switch is announced to it. */
#ifndef CNN_EMU_FIBER_H
#define CNN_EMU_FIBER_H

#include <stddef.h>

namespace cnn_emu {

/* The saved stack pointer of a suspended context; the callee-saved
 * registers and the floating-point control words sit on that stack. */
struct fiber_context {
    void *sp = nullptr;
};

struct fiber_home {
    fiber_context context;
    /* The home stack's bounds, learned from AddressSanitizer on the first
     * switch into a fiber; unused without it. */
    const void *stack_bottom = nullptr;
    size_t stack_size = 0;
    void *fake_stack = nullptr;
};

struct fiber {
    fiber_context context;
    unsigned char *mapping = nullptr; /* guard page + stack */
    size_t mapping_size = 0;
    unsigned char *stack = nullptr; /* usable stack, growing down */
    size_t stack_size = 0;
    fiber_home *home = nullptr;
    void (*entry)(void *) = nullptr;
    void *arg = nullptr;
    void *fake_stack = nullptr;
    /* Left without unwinding (its thread was stopped by a fault): its
     * stack memory must be cleaned before the next use. */
    bool abandoned = false;
};

/* Maps a stack of `stack_size` bytes (rounded to pages) with a guard page
 * below it. False when mmap fails. */
bool fiber_create(fiber &f, size_t stack_size);
void fiber_destroy(fiber &f);
/* True when `addr` is in the fiber's guard page: its stack overflowed. */
bool fiber_guard_contains(const fiber &f, const void *addr);

/* Arms `f` to run entry(arg) from the top of its stack on the next
 * fiber_enter. */
void fiber_prepare(fiber &f, void (*entry)(void *), void *arg);

/* From the home stack: runs `f` until it calls fiber_leave or finishes. */
void fiber_enter(fiber_home &home, fiber &f);
/* From inside `f`: suspends it and returns to its home. */
void fiber_leave(fiber &f);
/* From inside `f` (also from a signal handler running for it): returns to
 * its home and never comes back. */
[[noreturn]] void fiber_abandon(fiber &f);

} // namespace cnn_emu

#endif /* CNN_EMU_FIBER_H */
