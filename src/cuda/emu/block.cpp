/* src/cuda/emu/block.cpp - runs the threads of one block as fibers on a
 * worker thread.
 *
 * The scheduler resumes, in forward or reversed index order, each thread
 * that can run; a thread runs until it finishes or waits. __syncthreads
 * waits until every thread that has not finished is waiting too (finished
 * threads count as arrived). A warp operation waits until every
 * unfinished lane named in its mask has reached a warp operation; the
 * last to arrive computes the result of every lane, so a shuffle reads
 * values that all lanes posted before any lane moves on. Lanes that meet
 * with different masks or operations, a mask without the caller's lane,
 * and threads that can never proceed are reported as launch failures.
 *
 * Shared memory lives in the worker's arena: dynamic shared memory ends
 * at a guard page, static declarations (CNN_SHARED) are placed below it,
 * each filled with the run's NaN pattern when the block starts or when
 * the first thread reaches the declaration. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>

#include "fiber.h"
#include "internal.h"
#include "sanitizer.h"

namespace cnn_emu {

thread_local thread_view *current_view;

namespace {

enum class thread_state : unsigned char { runnable, at_barrier, at_warp, finished };

struct emu_thread {
    thread_view view;
    fiber stack;
    executor *ex = nullptr;
    unsigned linear = 0;
    thread_state state = thread_state::runnable;
    int predicate = 0;
    warp_op op = warp_sync;
    unsigned mask = 0;
    int lane_arg = 0;
    int width = 32;
    uint64_t value = 0;
    uint64_t result = 0;
};

struct shared_site {
    const void *site;
    unsigned char *memory;
};

size_t page_size()
{
    static const size_t size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

} // namespace

struct executor {
    int worker = 0;
    fiber_home home;
    std::vector<std::unique_ptr<emu_thread>> threads;
    size_t stack_size = 0;
    unsigned char *arena_map = nullptr; /* guard, arena, guard */
    size_t arena_map_size = 0;
    unsigned char *arena_lo = nullptr, *arena_hi = nullptr;

    /* The block being run. */
    launch_state *launch = nullptr;
    uint3 block_idx{0, 0, 0};
    unsigned count = 0;   /* threads */
    unsigned live = 0;    /* not finished */
    unsigned waiting = 0; /* at the barrier */
    unsigned at_warp[max_block_threads / 32] = {}; /* per warp */
    int barrier_count = 0, barrier_arrived = 0;
    unsigned char *dynamic_base = nullptr;
    unsigned char *static_low = nullptr;
    std::vector<shared_site> sites;
    emu_thread *running = nullptr;
    bool aborted = false;
    const void *fault_address = nullptr;
    emu_thread *fault_thread = nullptr;
};

namespace {

thread_local executor *current_executor;

void fill_pattern(unsigned char *p, size_t n, uint64_t pattern)
{
    for (size_t i = 0; i < n; ++i)
        p[i] = (unsigned char)(pattern >> (8 * ((uintptr_t)(p + i) & 7)));
}

std::string thread_name(const executor &ex, const emu_thread &t)
{
    char text[160];
    snprintf(text, sizeof text, "%s, block (%u,%u,%u), thread (%u,%u,%u)",
             ex.launch->spec->name, ex.block_idx.x, ex.block_idx.y,
             ex.block_idx.z, t.view.thread_idx.x, t.view.thread_idx.y,
             t.view.thread_idx.z);
    return text;
}

/* Stops the block from inside the running thread, after the failure was
 * recorded (in a statement of its own, so that no string of the report
 * is left on the abandoned stack): leaves the thread's fiber for good. */
[[noreturn]] void abort_block(executor &ex)
{
    ex.aborted = true;
    fiber_abandon(ex.running->stack);
}

void release_barrier(executor &ex)
{
    int passed = 0;
    for (unsigned i = 0; i < ex.count; ++i) {
        emu_thread &t = *ex.threads[i];
        if (t.state == thread_state::at_barrier) {
            passed += t.predicate != 0;
            t.state = thread_state::runnable;
        }
    }
    ex.barrier_count = passed;
    ex.barrier_arrived = (int)ex.waiting;
    ex.waiting = 0;
}

/* The result of lane `j` of a complete warp operation; `posted` holds the
 * lanes that took part. */
uint64_t warp_result(const executor &ex, unsigned base, unsigned j,
                     unsigned posted)
{
    const emu_thread &t = *ex.threads[base + j];
    const unsigned w = (unsigned)t.width;
    unsigned ballot = 0;
    for (unsigned k = 0; k < 32; ++k)
        if ((posted >> k & 1u) && ex.threads[base + k]->value != 0)
            ballot |= 1u << k;
    unsigned src = j;
    switch (t.op) {
    case warp_sync:
        return 0;
    case warp_ballot:
        return ballot;
    case warp_any:
        return ballot != 0;
    case warp_all:
        return ballot == posted;
    case warp_shfl:
        src = (j & ~(w - 1)) + ((unsigned)t.lane_arg & (w - 1));
        break;
    case warp_shfl_up:
        src = (j & (w - 1)) >= (unsigned)t.lane_arg ? j - (unsigned)t.lane_arg : j;
        break;
    case warp_shfl_down:
        src = (j & (w - 1)) + (unsigned)t.lane_arg < w ? j + (unsigned)t.lane_arg : j;
        break;
    case warp_shfl_xor:
        src = j ^ (unsigned)t.lane_arg;
        if (src > 31 || src >= (j / w + 1) * w) /* later groups: own value */
            src = j;
        break;
    }
    if (src == j)
        return t.value;
    /* A lane that did not take part has no defined value to read. */
    return (posted >> src & 1u) ? ex.threads[base + src]->value
                                : ex.launch->fill_pattern;
}

/* Completes the warp operations of warp `warp` whose lanes have all
 * arrived. Runs inside the thread that arrived or finished last. */
void complete_warp(executor &ex, unsigned warp)
{
    const unsigned base = warp * 32;
    const unsigned lanes = ex.count - base < 32 ? ex.count - base : 32;
    for (unsigned lane = 0; lane < lanes; ++lane) {
        emu_thread &t = *ex.threads[base + lane];
        if (t.state != thread_state::at_warp)
            continue;
        unsigned posted = 0;
        bool complete = true;
        for (unsigned j = 0; j < lanes && complete; ++j) {
            if (!(t.mask >> j & 1u))
                continue;
            emu_thread &u = *ex.threads[base + j];
            if (u.state == thread_state::finished)
                continue;
            if (u.state != thread_state::at_warp) {
                complete = false;
                break;
            }
            if (u.mask != t.mask || u.op != t.op) {
                char text[160];
                snprintf(text, sizeof text,
                         ": lanes %u and %u of warp %u meet in different warp "
                         "operations (masks 0x%08x and 0x%08x)",
                         lane, j, warp, t.mask, u.mask);
                ex.launch->fail(cudaErrorLaunchFailure,
                                thread_name(ex, *ex.running) + text);
                abort_block(ex);
            }
            posted |= 1u << j;
        }
        if (!complete)
            continue;
        uint64_t results[32];
        for (unsigned j = 0; j < lanes; ++j)
            if (posted >> j & 1u)
                results[j] = warp_result(ex, base, j, posted);
        for (unsigned j = 0; j < lanes; ++j) {
            if (posted >> j & 1u) {
                ex.threads[base + j]->result = results[j];
                ex.threads[base + j]->state = thread_state::runnable;
                ex.at_warp[warp]--;
            }
        }
    }
}

void thread_main(void *arg)
{
    emu_thread &t = *static_cast<emu_thread *>(arg);
    executor &ex = *t.ex;
    const launch_spec &spec = *ex.launch->spec;
    spec.body(spec.closure);
    t.state = thread_state::finished;
    --ex.live;
    if (ex.waiting > 0 && ex.waiting == ex.live)
        release_barrier(ex);
    if (ex.at_warp[t.linear / 32] > 0)
        complete_warp(ex, t.linear / 32);
}

bool ensure_threads(executor &ex, unsigned n)
{
    while (ex.threads.size() < n) {
        std::unique_ptr<emu_thread> t(new (std::nothrow) emu_thread());
        if (!t || !fiber_create(t->stack, ex.stack_size))
            return false;
        t->ex = &ex;
        ex.threads.push_back(std::move(t));
    }
    return true;
}

/* Describes why no thread of the block can run. */
std::string deadlock_report(const executor &ex)
{
    const emu_thread *at_barrier = nullptr, *at_warp = nullptr;
    unsigned barrier_n = 0, warp_n = 0;
    for (unsigned i = 0; i < ex.count; ++i) {
        const emu_thread &t = *ex.threads[i];
        if (t.state == thread_state::at_barrier) {
            barrier_n++;
            at_barrier = at_barrier ? at_barrier : &t;
        } else if (t.state == thread_state::at_warp) {
            warp_n++;
            at_warp = at_warp ? at_warp : &t;
        }
    }
    char text[320];
    int used = snprintf(text, sizeof text,
                        ": deadlock: no thread can go on; %u wait in "
                        "__syncthreads, %u in warp operations",
                        barrier_n, warp_n);
    if (at_warp && used > 0 && (size_t)used < sizeof text)
        snprintf(text + used, sizeof text - (size_t)used,
                 " (thread (%u,%u,%u) with mask 0x%08x waits for lanes that "
                 "are elsewhere)",
                 at_warp->view.thread_idx.x, at_warp->view.thread_idx.y,
                 at_warp->view.thread_idx.z, at_warp->mask);
    const emu_thread &first = at_warp ? *at_warp : *at_barrier;
    return thread_name(ex, first) + text;
}

/* Reports the fault that stopped the block. */
void report_fault(executor &ex)
{
    /* The handler left without returning: SIGSEGV is still blocked. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGSEGV);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    const unsigned char *a = static_cast<const unsigned char *>(ex.fault_address);
    const std::string who = thread_name(ex, *ex.fault_thread);
    char text[320];
    for (const auto &t : ex.threads) {
        if (fiber_guard_contains(t->stack, a)) {
            snprintf(text, sizeof text,
                     ": the emulated thread overflowed its stack of %zu KiB "
                     "(CNN_EMU_STACK_KIB sets the size)",
                     ex.stack_size / 1024);
            ex.launch->fail(cudaErrorLaunchFailure, who + text);
            return;
        }
    }
    const size_t page = page_size();
    if (a >= ex.arena_hi && a < ex.arena_hi + page) {
        snprintf(text, sizeof text,
                 ": illegal address %p, %zu bytes past the end of the block's "
                 "shared memory (%zu bytes of dynamic shared memory)",
                 (const void *)a, (size_t)(a - ex.arena_hi),
                 ex.launch->spec->dynamic_shared);
        ex.launch->fail(cudaErrorIllegalAddress, who + text);
        return;
    }
    if (a >= ex.arena_map && a < ex.arena_lo) {
        snprintf(text, sizeof text,
                 ": illegal address %p, before the start of the block's shared "
                 "memory", (const void *)a);
        ex.launch->fail(cudaErrorIllegalAddress, who + text);
        return;
    }
    snprintf(text, sizeof text, ": illegal address %p: ", (const void *)a);
    ex.launch->fail(cudaErrorIllegalAddress,
                    who + text + describe_address(a));
}

} // namespace

executor *executor_create(int worker)
{
    std::unique_ptr<executor> ex(new (std::nothrow) executor());
    if (!ex)
        return nullptr;
    ex->worker = worker;
#ifdef CNN_EMU_ASAN
    size_t kib = 256; /* instrumented frames are larger */
#else
    size_t kib = 64;
#endif
    if (const char *env = getenv("CNN_EMU_STACK_KIB")) {
        long v = strtol(env, nullptr, 10);
        if (v >= 16 && v <= 65536)
            kib = (size_t)v;
    }
    ex->stack_size = kib * 1024;
    const size_t page = page_size();
    const size_t arena = (optin_shared_limit + page - 1) / page * page;
    ex->arena_map_size = arena + 2 * page;
    void *map = mmap(nullptr, ex->arena_map_size, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return nullptr;
    ex->arena_map = static_cast<unsigned char *>(map);
    ex->arena_lo = ex->arena_map + page;
    ex->arena_hi = ex->arena_lo + arena;
    if (mprotect(ex->arena_lo, arena, PROT_READ | PROT_WRITE) != 0) {
        munmap(map, ex->arena_map_size);
        return nullptr;
    }
    return ex.release();
}

bool executor_running(const executor &ex) { return ex.running != nullptr; }

void executor_fault(executor &ex, const void *address)
{
    if (!ex.running)
        return;
    ex.fault_address = address;
    ex.fault_thread = ex.running;
    ex.aborted = true;
    fiber_abandon(ex.running->stack);
}

void run_block(executor &ex, launch_state &launch, uint64_t block)
{
    const launch_spec &spec = *launch.spec;
    const unsigned n = spec.block.x * spec.block.y * spec.block.z;
    current_executor = &ex;
    if (!ensure_threads(ex, n)) {
        launch.fail(cudaErrorLaunchOutOfResources,
                    std::string(spec.name) +
                        ": no memory for the stacks of the emulated threads");
        return;
    }
    ex.launch = &launch;
    ex.block_idx.x = (unsigned)(block % spec.grid.x);
    ex.block_idx.y = (unsigned)(block / spec.grid.x % spec.grid.y);
    ex.block_idx.z = (unsigned)(block / ((uint64_t)spec.grid.x * spec.grid.y));
    ex.count = ex.live = n;
    ex.waiting = 0;
    memset(ex.at_warp, 0, sizeof ex.at_warp);
    ex.aborted = false;
    ex.fault_address = nullptr;
    ex.sites.clear();
    const size_t dynamic = (spec.dynamic_shared + 15) / 16 * 16;
    ex.dynamic_base = ex.static_low = ex.arena_hi - dynamic;
    fill_pattern(ex.dynamic_base, dynamic, launch.fill_pattern);

    for (unsigned i = 0; i < n; ++i) {
        emu_thread &t = *ex.threads[i];
        t.linear = i;
        t.view.thread_idx.x = i % spec.block.x;
        t.view.thread_idx.y = i / spec.block.x % spec.block.y;
        t.view.thread_idx.z = i / (spec.block.x * spec.block.y);
        t.view.block_idx = ex.block_idx;
        t.view.block_dim = spec.block;
        t.view.grid_dim = spec.grid;
        t.state = thread_state::runnable;
        fiber_prepare(t.stack, thread_main, &t);
    }

    while (ex.live > 0) {
        bool ran = false;
        for (unsigned k = 0; k < n; ++k) {
            emu_thread &t = *ex.threads[launch.reversed ? n - 1 - k : k];
            if (t.state != thread_state::runnable)
                continue;
            ran = true;
            ex.running = &t;
            current_view = &t.view;
            fiber_enter(ex.home, t.stack);
            ex.running = nullptr;
            current_view = nullptr;
            if (ex.aborted)
                break;
        }
        if (!ran && !ex.aborted) {
            launch.fail(cudaErrorLaunchFailure, deadlock_report(ex));
            ex.aborted = true;
        }
        if (ex.aborted) {
            if (ex.fault_address)
                report_fault(ex);
            for (unsigned i = 0; i < n; ++i)
                if (ex.threads[i]->state != thread_state::finished)
                    ex.threads[i]->stack.abandoned = true;
            return;
        }
    }
}

/* ---- what kernels call (cnn_emu/device.h) */

int block_barrier(int predicate, int *arrived)
{
    executor &ex = *current_executor;
    emu_thread &t = *ex.running;
    t.predicate = predicate;
    t.state = thread_state::at_barrier;
    if (++ex.waiting == ex.live)
        release_barrier(ex);
    fiber_leave(t.stack);
    *arrived = ex.barrier_arrived;
    return ex.barrier_count;
}

uint64_t warp_exchange(warp_op op, unsigned mask, uint64_t value, int lane,
                       int width)
{
    executor &ex = *current_executor;
    emu_thread &t = *ex.running;
    const unsigned own = t.linear % 32;
    if (!(mask >> own & 1u)) {
        char text[96];
        snprintf(text, sizeof text,
                 ": a warp operation's mask 0x%08x does not name the calling "
                 "lane %u", mask, own);
        ex.launch->fail(cudaErrorLaunchFailure, thread_name(ex, t) + text);
        abort_block(ex);
    }
    if (width < 1 || width > 32 || (width & (width - 1)) != 0) {
        char text[80];
        snprintf(text, sizeof text,
                 ": shuffle width %d is not a power of 2 up to 32", width);
        ex.launch->fail(cudaErrorLaunchFailure, thread_name(ex, t) + text);
        abort_block(ex);
    }
    t.op = op;
    t.mask = mask;
    t.value = value;
    t.lane_arg = lane;
    t.width = width;
    t.state = thread_state::at_warp;
    ex.at_warp[t.linear / 32]++;
    complete_warp(ex, t.linear / 32);
    fiber_leave(t.stack);
    return t.result;
}

void *shared_dynamic()
{
    return current_executor->dynamic_base;
}

void *shared_static(const void *site, size_t bytes, size_t align)
{
    executor &ex = *current_executor;
    for (const shared_site &s : ex.sites)
        if (s.site == site)
            return s.memory;
    if (align < 16)
        align = 16;
    const launch_state &launch = *ex.launch;
    const size_t room = (size_t)(ex.static_low - ex.arena_lo);
    unsigned char *low = ex.arena_lo;
    if (bytes <= room)
        low = (unsigned char *)(((uintptr_t)ex.static_low - bytes) &
                                ~(uintptr_t)(align - 1));
    const size_t static_bytes = (size_t)(ex.dynamic_base - low);
    const size_t total = (size_t)(ex.arena_hi - low);
    char text[320];
    if (bytes > room || static_bytes > default_shared_limit) {
        snprintf(text, sizeof text,
                 ": %zu bytes or more of static shared memory (CNN_SHARED): a "
                 "GPU allows at most %zu (ptxas refuses the kernel)",
                 bytes > room ? bytes : static_bytes, default_shared_limit);
        ex.launch->fail(cudaErrorInvalidValue, launch.spec->name + std::string(text));
        abort_block(ex);
    }
    if (total > launch.shared_limit) {
        snprintf(text, sizeof text,
                 ": %zu bytes of static and %zu of dynamic shared memory are "
                 "more than the %zu bytes allowed (48 KiB, or the opt-in limit "
                 "set with cudaFuncSetAttribute)",
                 static_bytes, launch.spec->dynamic_shared, launch.shared_limit);
        ex.launch->fail(cudaErrorInvalidValue, launch.spec->name + std::string(text));
        abort_block(ex);
    }
    fill_pattern(low, bytes, launch.fill_pattern);
    ex.static_low = low;
    ex.sites.push_back(shared_site{site, low});
    return low;
}

} // namespace cnn_emu

unsigned __activemask()
{
    using namespace cnn_emu;
    executor &ex = *current_executor;
    const unsigned base = ex.running->linear / 32 * 32;
    unsigned mask = 0;
    for (unsigned j = 0; j < 32 && base + j < ex.count; ++j)
        if (ex.threads[base + j]->state != thread_state::finished)
            mask |= 1u << j;
    return mask;
}
