/* src/cpu/cpu.h - what the CPU backend's files share. */
#ifndef CNN_CPU_H
#define CNN_CPU_H

#include <stdint.h>

#include "../backend.h"

/* The core's services (set when the backend is created). */
extern const cnn_host_api *cnn_cpu_host;

/* Number of logical CPU devices (CNN_CPU_DEVICES, default 1). */
/* The most logical CPU devices (CNN_CPU_DEVICES is clamped to it). */
#define CNN_CPU_MAX_DEVICES 64
int cnn_cpu_device_count(void);
/* Threads a logical CPU device uses: its share of the machine's. */
int cnn_cpu_device_threads(int device);

/* Runs body(begin, end, ctx) over [0, n) split into contiguous chunks, one
 * per thread of `device`, chunk boundaries a multiple of `align` items (so
 * vector loops stay aligned), and no thread given fewer than `min_chunk`
 * items (small jobs stay on the calling thread: a thread team costs a few
 * microseconds). Static split: the same n and thread count always give the
 * same chunks (determinism). Each worker, the calling thread included, runs
 * with denormals flushed to zero, and the calling thread's floating-point
 * environment is restored afterwards. Not reentrant: body must not call
 * cnn_cpu_parallel_for. */
typedef void (*cnn_cpu_range_fn)(int64_t begin, int64_t end, void *ctx);
void cnn_cpu_parallel_for(int device, int64_t n, int64_t align,
                          int64_t min_chunk, cnn_cpu_range_fn body, void *ctx);

/* The thread that runs a body inside cnn_cpu_parallel_for (0 .. threads-1),
 * for carving per-thread scratch out of the workspace; 0 outside. */
int cnn_cpu_thread_index(void);

/* Flush-to-zero and denormals-are-zero for the current thread; returns the
 * state to hand back to cnn_cpu_fpenv_restore. */
unsigned cnn_cpu_fpenv_enter(void);
void cnn_cpu_fpenv_restore(unsigned saved);

/* A scratch buffer of at least `bytes` for `device`, valid until the next
 * call for the same device (calls on one device are serialised). Grows to
 * the largest request and is then reused: no allocation per op once warm.
 * NULL, with an error recorded, when memory runs out. */
void *cnn_cpu_workspace(int device, size_t bytes);

/* One line about the BLAS linked in ("none", or OpenBLAS's configuration
 * and threading), for cnn info. */
void cnn_cpu_blas_describe(char *buf, size_t size);
/* One line about the GEMM in use (own or OpenBLAS, and which kernel), for
 * cnn info (src/cpu/gemm.c). */
void cnn_cpu_gemm_describe(char *buf, size_t size);

/* Op families register their slots in the table; each is defined in
 * src/cpu/<family>.c and called from cnn_cpu_backend_open. */
void cnn_cpu_register_conv(cnn_op_fn *ops);
void cnn_cpu_register_linear(cnn_op_fn *ops);
void cnn_cpu_register_dropout(cnn_op_fn *ops);
void cnn_cpu_register_loss(cnn_op_fn *ops);
void cnn_cpu_register_concat(cnn_op_fn *ops);
void cnn_cpu_register_sgd(cnn_op_fn *ops);
void cnn_cpu_register_pool(cnn_op_fn *ops);
void cnn_cpu_register_batchnorm(cnn_op_fn *ops);
void cnn_cpu_register_lrn(cnn_op_fn *ops);

/* Op implementations (src/cpu/elementwise.c, src/cpu/fill.c). */
cnn_status cnn_cpu_fill(const cnn_op_args *args);
cnn_status cnn_cpu_uniform(const cnn_op_args *args);
cnn_status cnn_cpu_normal(const cnn_op_args *args);
cnn_status cnn_cpu_add(const cnn_op_args *args);
cnn_status cnn_cpu_scale(const cnn_op_args *args);
cnn_status cnn_cpu_relu_forward(const cnn_op_args *args);
cnn_status cnn_cpu_relu_backward(const cnn_op_args *args);

#endif /* CNN_CPU_H */
