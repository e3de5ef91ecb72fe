/* src/cuda/emu/workers.cpp - the worker threads that run blocks, and the
 * fault handler that turns a kernel's bad memory access into
 * cudaErrorIllegalAddress.
 *
 * The workers (cnn_emu_worker_count of them) are started on the first
 * launch and kept for the life of the process; they are the emulated
 * device's multiprocessors. A launch publishes itself, every worker takes
 * block numbers from one atomic counter and runs each block to its end,
 * and the launching thread waits for all of them. Host threads never run
 * kernel code, so their signal state is left alone.
 *
 * The SIGSEGV handler (chained to whatever handler was there before) acts
 * only on a worker thread that is running an emulated thread: it stops
 * that thread's fiber and switches back to the block scheduler, which
 * reports the address. It runs on an alternate signal stack so that a
 * fiber's stack overflow can be reported too. */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>

#include <condition_variable>
#include <thread>

#include "internal.h"
#include "sanitizer.h"

namespace cnn_emu {
namespace {

constexpr int max_workers = 64;

struct pool {
    std::mutex lock;
    std::condition_variable work;
    std::condition_variable done;
    launch_state *launch = nullptr;
    uint64_t generation = 0;
    int busy = 0;
    int count = 0;
    /* Written before the workers start, read by the signal handler. */
    pthread_t ids[max_workers];
    executor *executors[max_workers];
    std::atomic<int> started{0};
};

pool *the_pool;
struct sigaction previous_handler;

void on_fault(int sig, siginfo_t *info, void *context)
{
    pool *p = the_pool;
    if (p) {
        pthread_t self = pthread_self();
        int n = p->started.load(std::memory_order_acquire);
        for (int i = 0; i < n; ++i) {
            if (!pthread_equal(self, p->ids[i]) || !p->executors[i])
                continue;
            if (tracking_fault(info->si_addr))
                return; /* check mode saved the page: write again */
            if (executor_running(*p->executors[i]))
                executor_fault(*p->executors[i], info->si_addr); /* no return */
        }
    }
    /* Not ours: hand it on. */
    if (previous_handler.sa_flags & SA_SIGINFO) {
        previous_handler.sa_sigaction(sig, info, context);
    } else if (previous_handler.sa_handler == SIG_DFL ||
               previous_handler.sa_handler == SIG_IGN) {
        sigaction(SIGSEGV, &previous_handler, nullptr); /* fault again, die */
    } else {
        previous_handler.sa_handler(sig);
    }
}

/* An alternate signal stack for this worker, unless it has one. */
void ensure_signal_stack()
{
    stack_t current;
    if (sigaltstack(nullptr, &current) == 0 && !(current.ss_flags & SS_DISABLE))
        return;
    const size_t size = 256 * 1024;
    void *map = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return;
    stack_t s;
    s.ss_sp = map;
    s.ss_size = size;
    s.ss_flags = 0;
    sigaltstack(&s, nullptr);
}

void worker_main(pool *p, int index)
{
    ensure_signal_stack();
    executor *ex = p->executors[index];
    uint64_t seen = 0;
    for (;;) {
        launch_state *launch;
        {
            std::unique_lock<std::mutex> guard(p->lock);
            p->work.wait(guard, [&] { return p->generation != seen; });
            seen = p->generation;
            launch = p->launch;
        }
        for (;;) {
            if (launch->failed.load(std::memory_order_relaxed))
                break;
            uint64_t k = launch->next_block.fetch_add(1);
            if (k >= launch->blocks)
                break;
            run_block(*ex, *launch, launch->reversed ? launch->blocks - 1 - k : k);
        }
        std::lock_guard<std::mutex> guard(p->lock);
        if (--p->busy == 0)
            p->done.notify_all();
    }
}

/* Starts the workers once; never torn down (they wait when idle). */
pool *get_pool()
{
    static std::once_flag once;
    std::call_once(once, [] {
        pool *p = new pool();
        int n = worker_count();
        for (int i = 0; i < n; ++i) {
            p->executors[i] = executor_create(i);
            if (!p->executors[i])
                break;
            p->count = i + 1;
        }
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_sigaction = on_fault;
        action.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&action.sa_mask);
        the_pool = p;
        sigaction(SIGSEGV, &action, &previous_handler);
        for (int i = 0; i < p->count; ++i) {
            std::thread t(worker_main, p, i);
            p->ids[i] = t.native_handle();
            t.detach();
            p->started.store(i + 1, std::memory_order_release);
        }
    });
    return the_pool;
}

} // namespace

void launch_state::fail(cudaError_t err, const std::string &what)
{
    std::lock_guard<std::mutex> guard(error_lock);
    if (error == cudaSuccess) {
        error = err;
        report = what;
    }
    failed.store(true);
}

void run_on_workers(launch_state &launch)
{
    pool *p = get_pool();
    if (p->count == 0) {
        launch.fail(cudaErrorLaunchOutOfResources,
                    "the emulation could not start its worker threads");
        return;
    }
    std::unique_lock<std::mutex> guard(p->lock);
    p->launch = &launch;
    p->busy = p->count;
    p->generation++;
    p->work.notify_all();
    p->done.wait(guard, [&] { return p->busy == 0; });
    p->launch = nullptr;
}

} // namespace cnn_emu
