/* src/cuda/emu/fiber.cpp - fibers for the emulated threads of a block.
 *
 * On x86-64 a switch is a few instructions (below): push the callee-saved
 * registers and the SSE and x87 control words, swap stack pointers, pop.
 * No signal mask is saved, so no system call is made; this is what makes
 * running every CUDA thread as a fiber affordable. Other CPUs use
 * ucontext, which is correct but makes a system call per switch. */
#include "fiber.h"

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sanitizer.h"

/* CNN_EMU_FIBER_UCONTEXT forces the portable path (to test it on x86). */
#if defined(__x86_64__) && !defined(CNN_EMU_FIBER_UCONTEXT)
#define CNN_EMU_FIBER_ASM 1
#else
#include <ucontext.h>
#endif

namespace cnn_emu {
namespace {

size_t page_size()
{
    static const size_t size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

/* Announces a switch to AddressSanitizer: `save` keeps the leaving
 * context's fake stack (nullptr: the leaving context is finished). */
inline void asan_start(void **save, const void *bottom, size_t size)
{
#ifdef CNN_EMU_ASAN
    __sanitizer_start_switch_fiber(save, bottom, size);
#else
    (void)save, (void)bottom, (void)size;
#endif
}

inline void asan_finish(void *saved, const void **old_bottom, size_t *old_size)
{
#ifdef CNN_EMU_ASAN
    __sanitizer_finish_switch_fiber(saved, old_bottom, old_size);
#else
    (void)saved, (void)old_bottom, (void)old_size;
#endif
}

} // namespace
} // namespace cnn_emu

#ifdef CNN_EMU_FIBER_ASM

/* void cnn_emu_switch(void **save_sp, void *load_sp): saves the current
 * context on its stack and its stack pointer in *save_sp, then resumes
 * the context whose stack pointer is load_sp. The layout on the stack,
 * from the saved stack pointer up: MXCSR (4 bytes), x87 control word
 * (2 bytes, padded to 8), r15, r14, r13, r12, rbx, rbp, return address.
 * A new fiber's stack is laid out the same way (fiber_prepare) with
 * cnn_emu_trampoline as the return address, r12 the function and r13 its
 * argument. */
asm(R"(
    .text
    .p2align 4
    .type cnn_emu_switch, @function
cnn_emu_switch:
    .cfi_startproc
    endbr64
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size cnn_emu_switch, .-cnn_emu_switch

    .p2align 4
    .type cnn_emu_trampoline, @function
cnn_emu_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    endbr64
    movq %r13, %rdi
    callq *%r12
    ud2
    .cfi_endproc
    .size cnn_emu_trampoline, .-cnn_emu_trampoline
)");

extern "C" void cnn_emu_switch(void **save_sp, void *load_sp);
extern "C" void cnn_emu_trampoline(void);

namespace cnn_emu {
namespace {

void context_switch(fiber_context &save, const fiber_context &load)
{
    cnn_emu_switch(&save.sp, load.sp);
}

void context_init(fiber &f, void (*start)(void *))
{
    uintptr_t top = (uintptr_t)(f.stack + f.stack_size) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 64);
    uint32_t mxcsr;
    uint16_t fpucw;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    memset(sp, 0, 64);
    memcpy(sp, &mxcsr, sizeof mxcsr);
    memcpy((unsigned char *)sp + 4, &fpucw, sizeof fpucw);
    sp[3] = (uint64_t)(uintptr_t)&f;      /* r13: the argument */
    sp[4] = (uint64_t)(uintptr_t)start;   /* r12: the function */
    sp[7] = (uint64_t)(uintptr_t)&cnn_emu_trampoline;
    f.context.sp = sp;
}

} // namespace
} // namespace cnn_emu

#else /* not x86-64: ucontext */

namespace cnn_emu {
namespace {

/* A fiber's ucontext_t sits at the low end of its stack; a worker has one
 * home, whose ucontext_t is this thread's. */
thread_local ucontext_t home_ucontext;

void context_switch(fiber_context &save, const fiber_context &load)
{
    swapcontext(static_cast<ucontext_t *>(save.sp),
                static_cast<ucontext_t *>(load.sp));
}

void ucontext_entry(unsigned fn_high, unsigned fn_low, unsigned arg_high,
                    unsigned arg_low)
{
    uint64_t fn = (uint64_t)fn_high << 32 | fn_low;
    uint64_t arg = (uint64_t)arg_high << 32 | arg_low;
    reinterpret_cast<void (*)(void *)>((uintptr_t)fn)((void *)(uintptr_t)arg);
}

void context_init(fiber &f, void (*start)(void *))
{
    const size_t reserved = (sizeof(ucontext_t) + 63) / 64 * 64;
    ucontext_t *uc = reinterpret_cast<ucontext_t *>(f.stack);
    getcontext(uc);
    uc->uc_stack.ss_sp = f.stack + reserved;
    uc->uc_stack.ss_size = f.stack_size - reserved;
    uc->uc_link = nullptr;
    /* makecontext passes int arguments: split the pointers. */
    uint64_t fn = (uintptr_t)start, arg = (uintptr_t)&f;
    makecontext(uc, (void (*)())ucontext_entry, 4, (unsigned)(fn >> 32),
                (unsigned)fn, (unsigned)(arg >> 32), (unsigned)arg);
    f.context.sp = uc;
}

} // namespace
} // namespace cnn_emu

#endif

namespace cnn_emu {
namespace {

/* Leaves `f` for good. Not declared noreturn on purpose: before a call to
 * a noreturn function AddressSanitizer clears the whole stack's shadow,
 * which for every finishing emulated thread costs more than its kernel. */
void fiber_switch_final(fiber &f)
{
    fiber_home &home = *f.home;
    asan_start(nullptr, home.stack_bottom, home.stack_size);
    context_switch(f.context, home.context); /* never resumed */
}

void fiber_start(void *arg)
{
    fiber &f = *static_cast<fiber *>(arg);
    asan_finish(nullptr, &f.home->stack_bottom, &f.home->stack_size);
    f.entry(f.arg);
    fiber_switch_final(f);
    __builtin_unreachable();
}

} // namespace

bool fiber_create(fiber &f, size_t stack_size)
{
    const size_t page = page_size();
    stack_size = (stack_size + page - 1) / page * page;
    size_t size = stack_size + page;
    void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
                     -1, 0);
    if (map == MAP_FAILED)
        return false;
    if (mprotect(map, page, PROT_NONE) != 0) {
        munmap(map, size);
        return false;
    }
    f.mapping = static_cast<unsigned char *>(map);
    f.mapping_size = size;
    f.stack = f.mapping + page;
    f.stack_size = stack_size;
    return true;
}

void fiber_destroy(fiber &f)
{
    if (!f.mapping)
        return;
#ifdef CNN_EMU_ASAN
    __asan_unpoison_memory_region(f.stack, f.stack_size);
#endif
    munmap(f.mapping, f.mapping_size);
    f.mapping = nullptr;
}

bool fiber_guard_contains(const fiber &f, const void *addr)
{
    const unsigned char *p = static_cast<const unsigned char *>(addr);
    return f.mapping && p >= f.mapping && p < f.stack;
}

void fiber_prepare(fiber &f, void (*entry)(void *), void *arg)
{
#ifdef CNN_EMU_ASAN
    /* A fiber stopped by a fault left its frames' redzones poisoned. */
    if (f.abandoned)
        __asan_unpoison_memory_region(f.stack, f.stack_size);
#endif
    f.abandoned = false;
    f.entry = entry;
    f.arg = arg;
    f.fake_stack = nullptr;
    context_init(f, fiber_start);
}

void fiber_enter(fiber_home &home, fiber &f)
{
    f.home = &home;
#ifndef CNN_EMU_FIBER_ASM
    home.context.sp = &home_ucontext;
#endif
    asan_start(&home.fake_stack, f.stack, f.stack_size);
    context_switch(home.context, f.context);
    asan_finish(home.fake_stack, nullptr, nullptr);
}


void fiber_leave(fiber &f)
{
    fiber_home &home = *f.home;
    asan_start(&f.fake_stack, home.stack_bottom, home.stack_size);
    context_switch(f.context, home.context);
    asan_finish(f.fake_stack, &home.stack_bottom, &home.stack_size);
}

void fiber_abandon(fiber &f)
{
    f.abandoned = true;
    fiber_switch_final(f);
    __builtin_unreachable();
}

} // namespace cnn_emu
