/* src/cuda/emu/memory.cpp - device memory of the emulated device.
 *
 * Each cudaMalloc is its own mapping: 64 KiB of guard pages, the data
 * pages, 64 KiB of guard pages. The returned pointer is 256-byte aligned,
 * as on a GPU, and placed so that the end of its 256-byte-rounded size
 * meets the trailing guard pages; the slack on either side is filled with
 * canary bytes that are checked after every launch (and poisoned for
 * AddressSanitizer, so an instrumented kernel that reads them is caught
 * too). A kernel that runs further faults on a guard page (block.cpp turns
 * that into cudaErrorIllegalAddress). New memory is filled with 0xFF bytes (NaN as
 * floats), not zeros, as a GPU gives no zeroed memory either. Freed
 * allocations stay mapped without access for a while, so a use after free
 * faults too. Copies and fills check that their ranges lie inside an
 * allocation and that pointers match the copy's direction.
 *
 * Check mode (tracking.cpp) finds a launch's writes by keeping device
 * memory read-only; it stays so between launches, and the host-side
 * writes here (copies, fills, new allocations) open just the pages they
 * write, which the next launch closes again. Protecting everything before
 * every launch would cost more than the kernels. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <deque>
#include <set>

#include "internal.h"
#include "sanitizer.h"

namespace cnn_emu {
namespace {

constexpr unsigned char canary = 0xA5;
constexpr size_t guard_bytes = 64 * 1024; /* each side */
constexpr size_t quarantine_entries = 1024;
constexpr size_t quarantine_bytes = (size_t)4 << 30;

std::map<uintptr_t, allocation> live;  /* by mapping address */
std::deque<allocation> quarantine;     /* freed, no access, oldest first */
size_t quarantined_bytes = 0;
size_t used_bytes = 0;
std::set<void *> pinned_host;

/* Check mode's protection: whether device memory is read-only, and the
 * ranges opened since it was made so. */
bool read_only = false;
struct open_range {
    uintptr_t key; /* the allocation's mapping */
    unsigned char *p;
    size_t n;
};
std::vector<open_range> opened;

size_t page_size()
{
    static const size_t size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

size_t round_up(size_t n, size_t unit) { return (n + unit - 1) / unit * unit; }

void poison(void *p, size_t n)
{
#ifdef CNN_EMU_ASAN
    __asan_poison_memory_region(p, n);
#else
    (void)p, (void)n;
#endif
}

void unpoison(void *p, size_t n)
{
#ifdef CNN_EMU_ASAN
    __asan_unpoison_memory_region(p, n);
#else
    (void)p, (void)n;
#endif
}

/* The live allocation whose mapping holds `p`, or null. */
const allocation *mapping_of(const void *p)
{
    uintptr_t a = (uintptr_t)p;
    auto it = live.upper_bound(a);
    if (it == live.begin())
        return nullptr;
    --it;
    const allocation &x = it->second;
    return a < (uintptr_t)x.mapping + x.mapping_size ? &x : nullptr;
}

/* Checks that [p, p + bytes) is inside one allocation; else records
 * cudaErrorInvalidValue with a report naming `call` and `role`. */
cudaError_t check_device_range(const char *call, const char *role,
                               const void *p, size_t bytes)
{
    const allocation *x = mapping_of(p);
    uintptr_t a = (uintptr_t)p, user = (uintptr_t)(x ? x->user : nullptr);
    if (x && a >= user && a - user <= x->bytes && bytes <= x->bytes - (a - user))
        return cudaSuccess;
    if (!x)
        return record_errorf(cudaErrorInvalidValue,
                             "%s: %s %p is not device memory: %s", call, role, p,
                             describe_address(p).c_str());
    return record_errorf(cudaErrorInvalidValue,
                         "%s: %zu bytes at %s %p do not fit the allocation %p "
                         "of %zu bytes (they start at offset %lld)",
                         call, bytes, role, p, (void *)x->user, x->bytes,
                         (long long)(a - user));
}

cudaError_t check_host_pointer(const char *call, const char *role,
                               const void *p)
{
    if (!mapping_of(p))
        return cudaSuccess;
    return record_errorf(cudaErrorInvalidValue,
                         "%s: %s %p is device memory but the copy's kind says "
                         "host memory", call, role, p);
}

void release(allocation &x)
{
    unpoison(x.data, x.data_size);
    munmap(x.mapping, x.mapping_size);
}

/* Keeps a freed allocation mapped without access for a while. */
void quarantine_add(allocation x)
{
    mprotect(x.data, x.data_size, PROT_NONE);
    madvise(x.data, x.data_size, MADV_DONTNEED);
    quarantine.push_back(x);
    quarantined_bytes += x.mapping_size;
    while (quarantine.size() > quarantine_entries ||
           quarantined_bytes > quarantine_bytes) {
        quarantined_bytes -= quarantine.front().mapping_size;
        release(quarantine.front());
        quarantine.pop_front();
    }
}

/* The first byte of [p, p + n) that is not the canary, or n. Reads
 * poisoned bytes on purpose. */
CNN_EMU_NO_ASAN size_t first_spoiled(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != canary)
            return i;
    return n;
}

/* Lets the host write [p, p + n) of allocation `x`. */
void open_for_host(const allocation &x, void *p, size_t n)
{
    if (!read_only)
        return;
    const size_t page = page_size();
    unsigned char *lo = (unsigned char *)((uintptr_t)p & ~(uintptr_t)(page - 1));
    unsigned char *hi = (unsigned char *)round_up((uintptr_t)p + n, page);
    mprotect(lo, (size_t)(hi - lo), PROT_READ | PROT_WRITE);
    opened.push_back(open_range{(uintptr_t)x.mapping, lo, (size_t)(hi - lo)});
}

cudaError_t copy(const char *call, void *dst, const void *src, size_t bytes,
                 cudaMemcpyKind kind)
{
    if (cudaError_t e = sticky_error())
        return e;
    if (bytes == 0)
        return cudaSuccess;
    if (kind == cudaMemcpyDefault)
        kind = mapping_of(dst) ? (mapping_of(src) ? cudaMemcpyDeviceToDevice
                                                  : cudaMemcpyHostToDevice)
                               : (mapping_of(src) ? cudaMemcpyDeviceToHost
                                                  : cudaMemcpyHostToHost);
    cudaError_t e = cudaSuccess;
    switch (kind) {
    case cudaMemcpyHostToHost:
        break;
    case cudaMemcpyHostToDevice:
        e = check_device_range(call, "destination", dst, bytes);
        if (!e)
            e = check_host_pointer(call, "source", src);
        break;
    case cudaMemcpyDeviceToHost:
        e = check_device_range(call, "source", src, bytes);
        if (!e)
            e = check_host_pointer(call, "destination", dst);
        break;
    case cudaMemcpyDeviceToDevice:
        e = check_device_range(call, "destination", dst, bytes);
        if (!e)
            e = check_device_range(call, "source", src, bytes);
        break;
    default:
        return record_errorf(cudaErrorInvalidMemcpyDirection,
                             "%s: kind %d is not a cudaMemcpyKind", call,
                             (int)kind);
    }
    if (e)
        return e;
    if (kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice)
        open_for_host(*mapping_of(dst), dst, bytes);
    memmove(dst, src, bytes);
    return cudaSuccess;
}

} // namespace

const std::map<uintptr_t, allocation> &allocations() { return live; }

void protect_allocations()
{
    if (!read_only) {
        for (const auto &entry : live)
            mprotect(entry.second.data, entry.second.data_size, PROT_READ);
        read_only = true;
    } else {
        for (const open_range &r : opened)
            mprotect(r.p, r.n, PROT_READ);
    }
    opened.clear();
}

void unprotect_allocations()
{
    if (!read_only)
        return;
    for (const auto &entry : live)
        mprotect(entry.second.data, entry.second.data_size,
                 PROT_READ | PROT_WRITE);
    read_only = false;
    opened.clear();
}

bool canaries_intact(const char *kernel, std::string &report)
{
    for (const auto &entry : live) {
        const allocation &x = entry.second;
        size_t front = (size_t)(x.user - x.data);
        size_t i = first_spoiled(x.data, front);
        if (i < front) {
            char text[512];
            snprintf(text, sizeof text,
                     "%s wrote before the start of the allocation %p of %zu "
                     "bytes (first at %lld bytes before it)",
                     kernel, (void *)x.user, x.bytes, (long long)(front - i));
            report = text;
            return false;
        }
        unsigned char *end = x.user + x.bytes;
        size_t back = (size_t)(x.data + x.data_size - end);
        i = first_spoiled(end, back);
        if (i < back) {
            char text[512];
            snprintf(text, sizeof text,
                     "%s wrote past the end of the allocation %p of %zu bytes "
                     "(first at byte offset %zu, %zu bytes past the end)",
                     kernel, (void *)x.user, x.bytes, x.bytes + i, i);
            report = text;
            return false;
        }
    }
    return true;
}

std::string describe_address(const void *address)
{
    char text[256];
    uintptr_t a = (uintptr_t)address;
    auto describe = [&](const allocation &x, const char *what) {
        uintptr_t user = (uintptr_t)x.user, end = user + x.bytes;
        if (a < user)
            snprintf(text, sizeof text,
                     "%llu bytes before the start of the %sallocation %p of "
                     "%zu bytes", (unsigned long long)(user - a), what,
                     (void *)x.user, x.bytes);
        else if (a >= end)
            snprintf(text, sizeof text,
                     "%llu bytes past the end of the %sallocation %p of %zu "
                     "bytes (byte offset %llu)",
                     (unsigned long long)(a - end), what, (void *)x.user,
                     x.bytes, (unsigned long long)(a - user));
        else
            snprintf(text, sizeof text,
                     "byte offset %llu of the %sallocation %p of %zu bytes",
                     (unsigned long long)(a - user), what, (void *)x.user,
                     x.bytes);
    };
    if (const allocation *x = mapping_of(address)) {
        describe(*x, "");
        return text;
    }
    for (auto it = quarantine.rbegin(); it != quarantine.rend(); ++it) {
        if (a >= (uintptr_t)it->mapping &&
            a < (uintptr_t)it->mapping + it->mapping_size) {
            describe(*it, "freed ");
            return text;
        }
    }
    snprintf(text, sizeof text,
             "%p is not in any device allocation (a host pointer, or a wild "
             "one)", address);
    return text;
}

void free_all_allocations()
{
    for (auto &entry : live)
        release(entry.second);
    live.clear();
    for (allocation &x : quarantine)
        release(x);
    quarantine.clear();
    quarantined_bytes = 0;
    used_bytes = 0;
    read_only = false;
    opened.clear();
    for (void *p : pinned_host)
        free(p);
    pinned_host.clear();
}

} // namespace cnn_emu

using namespace cnn_emu;

cudaError_t cudaMalloc(void **ptr, size_t bytes)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = sticky_error())
        return e;
    if (!ptr)
        return record_errorf(cudaErrorInvalidValue, "cudaMalloc: NULL");
    *ptr = nullptr;
    if (bytes == 0)
        return cudaSuccess;
    const size_t page = page_size();
    if (bytes > device_memory_limit ||
        round_up(round_up(bytes, allocation_alignment), page) >
            device_memory_limit - used_bytes)
        return record_errorf(cudaErrorMemoryAllocation,
                             "cudaMalloc: %zu bytes do not fit: %zu of the "
                             "emulated device's %zu bytes are in use",
                             bytes, used_bytes, device_memory_limit);
    allocation x;
    size_t rounded = round_up(bytes, allocation_alignment);
    x.data_size = round_up(rounded, page);
    x.mapping_size = x.data_size + 2 * guard_bytes;
    void *map = mmap(nullptr, x.mapping_size, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return record_errorf(cudaErrorMemoryAllocation,
                             "cudaMalloc: mmap of %zu bytes failed",
                             x.mapping_size);
    x.mapping = static_cast<unsigned char *>(map);
    x.data = x.mapping + guard_bytes;
    if (mprotect(x.data, x.data_size, PROT_READ | PROT_WRITE) != 0) {
        munmap(map, x.mapping_size);
        return record_errorf(cudaErrorMemoryAllocation,
                             "cudaMalloc: mprotect of %zu bytes failed",
                             x.data_size);
    }
    x.user = x.data + x.data_size - rounded;
    x.bytes = bytes;
    memset(x.data, canary, (size_t)(x.user - x.data));
    memset(x.user, 0xFF, bytes);
    memset(x.user + bytes, canary, rounded - bytes);
    poison(x.data, (size_t)(x.user - x.data));
    poison(x.user + bytes, rounded - bytes);
    live[(uintptr_t)x.mapping] = x;
    used_bytes += x.data_size;
    if (read_only) /* a new allocation is open until the next launch */
        opened.push_back(open_range{(uintptr_t)x.mapping, x.data, x.data_size});
    *ptr = x.user;
    return cudaSuccess;
}

cudaError_t cudaFree(void *ptr)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = sticky_error())
        return e;
    if (!ptr)
        return cudaSuccess;
    const allocation *x = mapping_of(ptr);
    if (!x || x->user != ptr)
        return record_errorf(cudaErrorInvalidValue,
                             "cudaFree: %p is not an allocation: %s", ptr,
                             describe_address(ptr).c_str());
    allocation freed = *x;
    live.erase((uintptr_t)freed.mapping);
    for (size_t i = opened.size(); i-- > 0;)
        if (opened[i].key == (uintptr_t)freed.mapping)
            opened.erase(opened.begin() + (std::ptrdiff_t)i);
    used_bytes -= freed.data_size;
    quarantine_add(freed);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = sticky_error())
        return e;
    if (!free_bytes || !total_bytes)
        return record_errorf(cudaErrorInvalidValue, "cudaMemGetInfo: NULL");
    *free_bytes = device_memory_limit - used_bytes;
    *total_bytes = device_memory_limit;
    return cudaSuccess;
}

cudaError_t cudaMallocHost(void **ptr, size_t bytes)
{
    return cudaHostAlloc(ptr, bytes, cudaHostAllocDefault);
}

cudaError_t cudaHostAlloc(void **ptr, size_t bytes, unsigned int flags)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = sticky_error())
        return e;
    if (!ptr)
        return record_errorf(cudaErrorInvalidValue, "cudaHostAlloc: NULL");
    (void)flags; /* host memory is host memory here */
    void *p = nullptr;
    if (posix_memalign(&p, page_size(), bytes ? bytes : 1) != 0)
        return record_errorf(cudaErrorMemoryAllocation,
                             "cudaHostAlloc: %zu bytes of host memory", bytes);
    pinned_host.insert(p);
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFreeHost(void *ptr)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (!ptr)
        return cudaSuccess;
    if (!pinned_host.erase(ptr))
        return record_errorf(cudaErrorInvalidValue,
                             "cudaFreeHost: %p was not allocated by "
                             "cudaHostAlloc", ptr);
    free(ptr);
    return sticky_error();
}

cudaError_t cudaMemcpy(void *dst, const void *src, size_t bytes,
                       cudaMemcpyKind kind)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    return copy("cudaMemcpy", dst, src, bytes, kind);
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t bytes,
                            cudaMemcpyKind kind, cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (!stream_valid(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaMemcpyAsync: %p is not a stream",
                             (void *)stream);
    return copy("cudaMemcpyAsync", dst, src, bytes, kind);
}

cudaError_t cudaMemcpyPeer(void *dst, int dst_device, const void *src,
                           int src_device, size_t bytes)
{
    return cudaMemcpyPeerAsync(dst, dst_device, src, src_device, bytes, 0);
}

cudaError_t cudaMemcpyPeerAsync(void *dst, int dst_device, const void *src,
                                int src_device, size_t bytes,
                                cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (dst_device != 0 || src_device != 0)
        return record_errorf(cudaErrorInvalidDevice,
                             "cudaMemcpyPeerAsync: devices %d and %d: the "
                             "emulation has one device, 0",
                             dst_device, src_device);
    if (!stream_valid(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaMemcpyPeerAsync: %p is not a stream",
                             (void *)stream);
    return copy("cudaMemcpyPeerAsync", dst, src, bytes, cudaMemcpyDeviceToDevice);
}

cudaError_t cudaMemset(void *dst, int value, size_t bytes)
{
    return cudaMemsetAsync(dst, value, bytes, 0);
}

cudaError_t cudaMemsetAsync(void *dst, int value, size_t bytes,
                            cudaStream_t stream)
{
    std::lock_guard<std::mutex> guard(device_mutex());
    if (cudaError_t e = sticky_error())
        return e;
    if (!stream_valid(stream))
        return record_errorf(cudaErrorInvalidResourceHandle,
                             "cudaMemsetAsync: %p is not a stream",
                             (void *)stream);
    if (bytes == 0)
        return cudaSuccess;
    if (cudaError_t e = check_device_range("cudaMemset", "destination", dst, bytes))
        return e;
    open_for_host(*mapping_of(dst), dst, bytes);
    memset(dst, value, bytes);
    return cudaSuccess;
}
