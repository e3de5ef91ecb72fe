/* src/cuda/emu/tracking.cpp - check mode's record of what a launch wrote.
 *
 * Check mode runs each launch twice from the same device memory and
 * compares. Copying every allocation before each launch would cost more
 * than the kernels, so writes are found instead: every allocation is made
 * read-only, the first write to a page faults, and the fault handler
 * (workers.cpp) saves the page's contents and makes it writable. After the
 * forward run the written pages are kept aside and restored; after the
 * reversed run every page written by either run is compared. The cost is
 * one fault per page written, not a copy of all memory. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

#include "internal.h"
#include "sanitizer.h"

namespace cnn_emu {

enum : unsigned char { written_now = 1, written_forward = 2 };

struct region {
    unsigned char *data;
    size_t pages;
    size_t first; /* index of its first page among all tracked pages */
    const allocation *a;
};

struct tracker_state {
    std::vector<region> regions; /* by address */
    size_t pages = 0;
    unsigned char *saved = nullptr;   /* each written page as it was */
    unsigned char *forward = nullptr; /* each page the forward run wrote */
    std::atomic<unsigned char> *written = nullptr;
};

namespace {

std::atomic<tracker_state *> active{nullptr};

size_t page_size()
{
    static const size_t size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

/* Page copies and compares that may touch the poisoned canary bytes, and
 * that run inside the fault handler: plain word loops, never libc. */
CNN_EMU_NO_ASAN void copy_page(void *dst, const void *src)
{
    volatile uint64_t *d = static_cast<volatile uint64_t *>(dst);
    const volatile uint64_t *s = static_cast<const volatile uint64_t *>(src);
    for (size_t i = 0; i < page_size() / 8; ++i)
        d[i] = s[i];
}

CNN_EMU_NO_ASAN size_t first_difference(const unsigned char *a,
                                        const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i])
            return i;
    return n;
}

CNN_EMU_NO_ASAN uint32_t word_at(const unsigned char *p)
{
    uint32_t w = 0;
    for (int i = 3; i >= 0; --i)
        w = w << 8 | p[i];
    return w;
}

/* Makes the pages whose `written` has `flag` read-only again, a run of
 * neighbours at a time. */
void protect_written(const tracker_state &t, unsigned char flag)
{
    const size_t page = page_size();
    for (const region &r : t.regions) {
        size_t i = 0;
        while (i < r.pages) {
            if (!(t.written[r.first + i].load() & flag)) {
                ++i;
                continue;
            }
            size_t j = i;
            while (j < r.pages && (t.written[r.first + j].load() & flag))
                ++j;
            mprotect(r.data + i * page, (j - i) * page, PROT_READ);
            i = j;
        }
    }
}

} // namespace

write_tracker::write_tracker() : state(nullptr) {}

bool write_tracker::begin()
{
    const size_t page = page_size();
    std::unique_ptr<tracker_state> t(new tracker_state());
    for (const auto &entry : allocations()) {
        const allocation &a = entry.second;
        t->regions.push_back(region{a.data, a.data_size / page, t->pages, &a});
        t->pages += a.data_size / page;
    }
    std::sort(t->regions.begin(), t->regions.end(),
              [](const region &x, const region &y) { return x.data < y.data; });
    if (t->pages > 0) {
        const size_t bytes = t->pages * page;
        void *saved = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        void *forward = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        t->written = new (std::nothrow) std::atomic<unsigned char>[t->pages]();
        if (saved == MAP_FAILED || forward == MAP_FAILED || !t->written) {
            if (saved != MAP_FAILED)
                munmap(saved, bytes);
            if (forward != MAP_FAILED)
                munmap(forward, bytes);
            delete[] t->written;
            return false;
        }
        t->saved = static_cast<unsigned char *>(saved);
        t->forward = static_cast<unsigned char *>(forward);
    }
    state = t.release();
    protect_allocations();
    active.store(state, std::memory_order_release);
    return true;
}

void write_tracker::after_forward()
{
    tracker_state &t = *state;
    const size_t page = page_size();
    for (const region &r : t.regions) {
        for (size_t i = 0; i < r.pages; ++i) {
            const size_t g = r.first + i;
            if (!(t.written[g].load() & written_now))
                continue;
            copy_page(t.forward + g * page, r.data + i * page);
            copy_page(r.data + i * page, t.saved + g * page);
        }
    }
    protect_written(t, written_now);
    for (size_t g = 0; g < t.pages; ++g)
        if (t.written[g].load() & written_now)
            t.written[g].store(written_forward);
}

std::string write_tracker::compare(const char *kernel) const
{
    const tracker_state &t = *state;
    const size_t page = page_size();
    for (const region &r : t.regions) {
        for (size_t i = 0; i < r.pages; ++i) {
            const size_t g = r.first + i;
            const unsigned char w = t.written[g].load();
            if (!w)
                continue;
            const unsigned char *now = r.data + i * page;
            const unsigned char *then =
                (w & written_forward) ? t.forward + g * page : t.saved + g * page;
            const size_t k = first_difference(now, then, page);
            if (k == page)
                continue;
            const long long offset = (long long)(now + k - r.a->user);
            const size_t word = k / 4 * 4;
            char text[640];
            snprintf(text, sizeof text,
                     "%s gives different results with the threads of a block "
                     "in forward and in reversed order (a missing "
                     "__syncthreads or __syncwarp, a race between threads, or "
                     "a read of uninitialised shared memory): the allocation "
                     "%p of %zu bytes differs first at byte offset %lld (the "
                     "4 bytes there: 0x%08x forward, 0x%08x reversed)",
                     kernel, (void *)r.a->user, r.a->bytes, offset,
                     word_at(then + word), word_at(now + word));
            return text;
        }
    }
    return std::string();
}

write_tracker::~write_tracker()
{
    if (!state)
        return;
    active.store(nullptr, std::memory_order_release);
    if (state->written)
        protect_written(*state, written_now); /* read-only between launches */
    const size_t bytes = state->pages * page_size();
    if (state->saved)
        munmap(state->saved, bytes);
    if (state->forward)
        munmap(state->forward, bytes);
    delete[] state->written;
    delete state;
}

bool tracking_fault(const void *address)
{
    tracker_state *t = active.load(std::memory_order_acquire);
    if (!t)
        return false;
    const unsigned char *a = static_cast<const unsigned char *>(address);
    const size_t page = page_size();
    size_t lo = 0, hi = t->regions.size();
    while (lo < hi) { /* the last region starting at or below a */
        size_t mid = (lo + hi) / 2;
        if (t->regions[mid].data <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return false;
    const region &r = t->regions[lo - 1];
    if (a >= r.data + r.pages * page)
        return false;
    const size_t i = (size_t)(a - r.data) / page, g = r.first + i;
    if (t->written[g].fetch_or(written_now) & written_now)
        return true; /* another worker is saving it: retry the write */
    copy_page(t->saved + g * page, r.data + i * page);
    mprotect(r.data + i * page, page, PROT_READ | PROT_WRITE);
    return true;
}

} // namespace cnn_emu
