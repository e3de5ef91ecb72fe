/* src/cpu/backend.c - the CPU backend's table: memory, devices, and the op
 * slots. The CPU's memory is host memory, so upload, download and copy are
 * all memcpy; calls are synchronous. */
#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu.h"

const cnn_host_api *cnn_cpu_host;

/* Cache-line and AVX-512 alignment for every buffer. */
#define CNN_CPU_ALIGNMENT 64

/* Bytes held per logical CPU device and their peak, for
 * cnn_device_memory_stats (the C library keeps freed memory itself, so
 * nothing is "cached" by cnn). */
static _Atomic size_t bytes_in_use[CNN_CPU_MAX_DEVICES];
static _Atomic size_t bytes_peak[CNN_CPU_MAX_DEVICES];

static void count_alloc(int device, void *ptr)
{
    size_t size = malloc_usable_size(ptr);
    size_t now = atomic_fetch_add(&bytes_in_use[device], size) + size;
    size_t peak = atomic_load(&bytes_peak[device]);
    while (now > peak &&
           !atomic_compare_exchange_weak(&bytes_peak[device], &peak, now)) {
    }
}

static cnn_status cpu_alloc(int device, size_t bytes, void **ptr)
{
    size_t rounded = (bytes + CNN_CPU_ALIGNMENT - 1) & ~(size_t)(CNN_CPU_ALIGNMENT - 1);
    if (rounded < bytes)
        rounded = 0; /* wrapped around: let aligned_alloc fail */
    *ptr = rounded ? aligned_alloc(CNN_CPU_ALIGNMENT, rounded) : NULL;
    if (!*ptr)
        return cnn_backend_error(cnn_cpu_host, CNN_ERR_OUT_OF_MEMORY,
                                 "cpu: out of host memory allocating %zu bytes",
                                 bytes);
    count_alloc(device, *ptr);
    return CNN_OK;
}

static void cpu_free(int device, void *ptr)
{
    if (ptr)
        atomic_fetch_sub(&bytes_in_use[device], malloc_usable_size(ptr));
    free(ptr);
}

static cnn_status cpu_memory_stats(int device, cnn_memory_stats *stats)
{
    stats->in_use = atomic_load(&bytes_in_use[device]);
    stats->peak = atomic_load(&bytes_peak[device]);
    return CNN_OK;
}

static void cpu_memory_reset_peak(int device)
{
    atomic_store(&bytes_peak[device], atomic_load(&bytes_in_use[device]));
}

static cnn_status cpu_upload(int device, void *dst, const void *src,
                             size_t bytes)
{
    (void)device;
    memcpy(dst, src, bytes);
    return CNN_OK;
}

static cnn_status cpu_copy(int dst_device, void *dst, int src_device,
                           const void *src, size_t bytes)
{
    (void)dst_device;
    (void)src_device;
    memcpy(dst, src, bytes);
    return CNN_OK;
}

static cnn_status cpu_synchronize(int device)
{
    (void)device;
    return CNN_OK;
}

static cnn_status cpu_device_check(int device)
{
    int count = cnn_cpu_device_count();
    if (device < 0 || device >= count)
        return cnn_backend_error(cnn_cpu_host, CNN_ERR_DEVICE,
                                 "cpu:%d does not exist (%d logical CPU "
                                 "device%s; set CNN_CPU_DEVICES for more)",
                                 device, count, count == 1 ? "" : "s");
    return CNN_OK;
}

static void cpu_device_name(int device, char *buf, size_t size)
{
#if defined(__x86_64__)
    const char *arch = "x86_64";
#elif defined(__aarch64__)
    const char *arch = "aarch64";
#else
    const char *arch = "cpu";
#endif
    int threads = cnn_cpu_device_threads(device);
    snprintf(buf, size, "%s, %d thread%s", arch, threads,
             threads == 1 ? "" : "s");
}

static void cpu_describe(char *buf, size_t size)
{
    char blas[256], gemm[256];
    cnn_cpu_blas_describe(blas, sizeof blas);
    cnn_cpu_gemm_describe(gemm, sizeof gemm);
    size_t used = strlen(buf);
    snprintf(buf + used, size - used,
             "cpu: %d logical device%s, %d thread%s each (OpenMP: %s)\n"
             "blas: %s\n"
             "gemm: %s\n",
             cnn_cpu_device_count(), cnn_cpu_device_count() == 1 ? "" : "s",
             cnn_cpu_device_threads(0), cnn_cpu_device_threads(0) == 1 ? "" : "s",
#ifdef _OPENMP
             "yes",
#else
             "no",
#endif
             blas, gemm);
}

static bool cpu_supports(const cnn_op_args *args)
{
    /* The CPU has no vendor engine; every other engine runs every op. */
    return args->engine != CNN_ENGINE_VENDOR;
}

static cnn_backend cpu_backend = {
    .abi_version = CNN_BACKEND_ABI_VERSION,
    .name = "cpu",
    .type = CNN_CPU,
    .emulated = false,
    .device_count = cnn_cpu_device_count,
    .device_check = cpu_device_check,
    .device_name = cpu_device_name,
    .describe = cpu_describe,
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_upload, /* host to host: the same memcpy */
    .copy = cpu_copy,
    .synchronize = cpu_synchronize,
    .memory_stats = cpu_memory_stats,
    .memory_reset_peak = cpu_memory_reset_peak,
    .memory_trim = NULL,
    .supports = cpu_supports,
    .ops = {
        [CNN_OP_FILL] = cnn_cpu_fill,
        [CNN_OP_UNIFORM] = cnn_cpu_uniform,
        [CNN_OP_NORMAL] = cnn_cpu_normal,
        [CNN_OP_ADD] = cnn_cpu_add,
        [CNN_OP_SCALE] = cnn_cpu_scale,
        [CNN_OP_RELU_FWD] = cnn_cpu_relu_forward,
        [CNN_OP_RELU_BWD] = cnn_cpu_relu_backward,
    },
};

const cnn_backend *cnn_cpu_backend_open(const cnn_host_api *host)
{
    cnn_cpu_host = host;
    /* Each op family fills its own slots (one cnn_cpu_register_<family>
     * per src/cpu/<family>.c), so adding a family touches one line here. */
    cnn_cpu_register_conv(cpu_backend.ops);
    cnn_cpu_register_linear(cpu_backend.ops);
    cnn_cpu_register_dropout(cpu_backend.ops);
    cnn_cpu_register_loss(cpu_backend.ops);
    cnn_cpu_register_concat(cpu_backend.ops);
    cnn_cpu_register_sgd(cpu_backend.ops);
    cnn_cpu_register_pool(cpu_backend.ops);
    cnn_cpu_register_batchnorm(cpu_backend.ops);
    cnn_cpu_register_lrn(cpu_backend.ops);
    return &cpu_backend;
}
