/* tests/test_gemm.c - the CPU backend's GEMM, called directly (this suite
 * links the static library and includes src/cpu/gemm.h): every kernel the
 * CPU can run, every transposition, alpha and beta, shapes that cross the
 * register tiles and the cache blocks, guard words around and between the
 * rows of C, beta = 0 ignoring NaN in C, results independent of the
 * thread count, and OpenBLAS when linked. Label: cpu. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "../src/cpu/gemm.h" /* private: this suite links libcnn.a */
#include "test_util.h"

static const struct {
    int64_t m, n, k;
} shapes[] = {
    {1, 1, 1},    {13, 17, 19}, {12, 32, 8},  {200, 40, 260},
    {5, 3100, 7}, {64, 64, 513}, {3, 2, 600}, {1, 100, 3},
    {100, 1, 3},  {7, 9, 0},
};
#define SHAPE_COUNT ((int)(sizeof shapes / sizeof shapes[0]))

/* (alpha, beta): overwrite, accumulate, and both scaled. */
static const float scalars[3][2] = {{1.0f, 0.0f}, {1.0f, 1.0f},
                                    {-0.5f, 2.0f}};

#define GUARD 0x7FC0FACEu /* a NaN no GEMM produces */
#define PAD 3             /* ldc = n + PAD */

typedef struct problem {
    int64_t m, n, k;
    bool ta, tb;
    float alpha, beta;
    float *a, *b, *c0; /* c0: C before the call (ldc = n + PAD) */
    double *want, *tol;
} problem;

static problem problem_create(int64_t m, int64_t n, int64_t k, bool ta,
                              bool tb, float alpha, float beta, uint32_t seed)
{
    problem p = {m, n, k, ta, tb, alpha, beta, NULL, NULL, NULL, NULL, NULL};
    int64_t ldc = n + PAD;
    p.a = malloc((size_t)(m * k + 1) * sizeof *p.a);
    p.b = malloc((size_t)(k * n + 1) * sizeof *p.b);
    p.c0 = malloc((size_t)(m * ldc) * sizeof *p.c0);
    p.want = malloc((size_t)(m * n) * sizeof *p.want);
    p.tol = malloc((size_t)(m * n) * sizeof *p.tol);
    cnn_test_values(p.a, m * k, seed);
    cnn_test_values(p.b, k * n, seed + 1);
    cnn_test_values(p.c0, m * ldc, seed + 2);
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = n; j < ldc; ++j) {
            uint32_t g = GUARD;
            memcpy(&p.c0[i * ldc + j], &g, sizeof g);
        }
        if (beta == 0.0f) /* beta = 0 must not read C */
            for (int64_t j = 0; j < n; ++j)
                p.c0[i * ldc + j] = NAN;
    }
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            double s = 0.0, abssum = 0.0;
            for (int64_t q = 0; q < k; ++q) {
                double av = ta ? p.a[q * m + i] : p.a[i * k + q];
                double bv = tb ? p.b[j * k + q] : p.b[q * n + j];
                s += av * bv;
                abssum += fabs(av * bv);
            }
            double c = beta == 0.0f ? 0.0 : beta * (double)p.c0[i * ldc + j];
            p.want[i * n + j] = alpha * s + c;
            p.tol[i * n + j] = 4.0 * FLT_EPSILON *
                                   (fabs(alpha) * abssum + 2.0 * fabs(c)) +
                               1e-30;
        }
    return p;
}

static void problem_free(problem *p)
{
    free(p->a);
    free(p->b);
    free(p->c0);
    free(p->want);
    free(p->tol);
}

static cnn_cpu_matrix mat_a(const problem *p)
{
    return (cnn_cpu_matrix){p->a, p->ta ? p->m : p->k, p->ta};
}

static cnn_cpu_matrix mat_b(const problem *p)
{
    return (cnn_cpu_matrix){p->b, p->tb ? p->k : p->n, p->tb};
}

static void check_result(const problem *p, const float *c, const char *who)
{
    int64_t ldc = p->n + PAD;
    for (int64_t i = 0; i < p->m; ++i) {
        for (int64_t j = 0; j < p->n; ++j) {
            double err = fabs((double)c[i * ldc + j] - p->want[i * p->n + j]);
            if (!(err <= p->tol[i * p->n + j]))
                ck_abort_msg("%s m%lld n%lld k%lld ta%d tb%d alpha %g beta "
                             "%g: C[%lld][%lld] = %.9g, want %.9g", who,
                             (long long)p->m, (long long)p->n,
                             (long long)p->k, p->ta, p->tb, (double)p->alpha,
                             (double)p->beta, (long long)i, (long long)j,
                             (double)c[i * ldc + j], p->want[i * p->n + j]);
        }
        for (int64_t j = p->n; j < ldc; ++j) {
            uint32_t bits;
            memcpy(&bits, &c[i * ldc + j], sizeof bits);
            if (bits != GUARD)
                ck_abort_msg("%s wrote between the rows of C", who);
        }
    }
}

static void *scratch_for_all_threads(void)
{
    size_t bytes = cnn_cpu_gemm_scratch_bytes(0);
    size_t one = cnn_cpu_gemm_thread_scratch_bytes();
    void *s = aligned_alloc(64, bytes > one ? bytes : one);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* Runs fn over every shape, transposition, alpha and beta. */
typedef void (*gemm_fn)(const problem *p, float *c, void *scratch,
                        const void *ctx);

static void for_every_problem(gemm_fn fn, const void *ctx, const char *who)
{
    void *scratch = scratch_for_all_threads();
    uint32_t seed = 1;
    for (int s = 0; s < SHAPE_COUNT; ++s)
        for (int t = 0; t < 4; ++t)
            for (int v = 0; v < 3; ++v) {
                problem p = problem_create(
                    shapes[s].m, shapes[s].n, shapes[s].k, t & 1, t & 2,
                    scalars[v][0], scalars[v][1], seed += 3);
                size_t bytes = (size_t)(p.m * (p.n + PAD)) * sizeof(float);
                float *c = malloc(bytes);
                memcpy(c, p.c0, bytes);
                fn(&p, c, scratch, ctx);
                check_result(&p, c, who);
                free(c);
                problem_free(&p);
            }
    free(scratch);
}

static void run_own(const problem *p, float *c, void *scratch, const void *ctx)
{
    cnn_cpu_gemm_own(ctx, p->m, p->n, p->k, p->alpha, mat_a(p), mat_b(p),
                     p->beta, c, p->n + PAD, scratch);
}

START_TEST(every_kernel_matches_reference)
{
    const char *names[] = {"avx512", "avx2", "generic"};
    int ran = 0;
    for (int i = 0; i < 3; ++i) {
        const cnn_cpu_gemm_kernel *k = cnn_cpu_gemm_kernel_find(names[i]);
        if (!k) {
            printf("gemm kernel %s: not runnable on this CPU, skipped\n",
                   names[i]);
            continue;
        }
        for_every_problem(run_own, k, names[i]);
        ++ran;
    }
    ck_assert_int_ge(ran, 1); /* the portable kernel always runs */
    ck_assert_ptr_nonnull(cnn_cpu_gemm_kernel_find("generic"));
    ck_assert_ptr_null(cnn_cpu_gemm_kernel_find("no-such-kernel"));
}
END_TEST

static void run_threaded(const problem *p, float *c, void *scratch,
                         const void *ctx)
{
    (void)ctx;
    cnn_cpu_sgemm(0, p->m, p->n, p->k, p->alpha, mat_a(p), mat_b(p), p->beta,
                  c, p->n + PAD, scratch);
}

static void run_serial(const problem *p, float *c, void *scratch,
                       const void *ctx)
{
    (void)ctx;
    cnn_cpu_sgemm_serial(p->m, p->n, p->k, p->alpha, mat_a(p), mat_b(p),
                         p->beta, c, p->n + PAD, scratch);
}

START_TEST(active_gemm_matches_reference)
{
    for_every_problem(run_threaded, NULL, "cnn_cpu_sgemm");
    for_every_problem(run_serial, NULL, "cnn_cpu_sgemm_serial");
}
END_TEST

static void run_blas(const problem *p, float *c, void *scratch,
                     const void *ctx)
{
    (void)ctx, (void)scratch;
    cnn_cpu_gemm_blas(2, p->m, p->n, p->k, p->alpha, mat_a(p), mat_b(p),
                      p->beta, c, p->n + PAD);
}

START_TEST(openblas_matches_reference)
{
    if (!cnn_cpu_gemm_blas_available()) {
        printf("OpenBLAS: not in this build, skipped\n");
        return;
    }
    for_every_problem(run_blas, NULL, "OpenBLAS");
}
END_TEST

/* Our GEMM splits C, never k, and sums each element in the same order in
 * any tile: 1, 2 or 3 threads give the same bits as one serial call. */
START_TEST(own_gemm_is_independent_of_thread_count)
{
    if (cnn_cpu_gemm_active() != CNN_CPU_GEMM_OWN) {
        printf("thread-count independence: OpenBLAS active, skipped "
               "(run with CNN_GEMM=own)\n");
        return;
    }
#ifdef _OPENMP
    int saved = omp_get_max_threads();
#endif
    const cnn_cpu_gemm_kernel *kernel = cnn_cpu_gemm_kernel_best();
    problem p = problem_create(150, 333, 270, false, true, 1.0f, 1.0f, 77);
    size_t bytes = (size_t)(p.m * (p.n + PAD)) * sizeof(float);
    float *serial = malloc(bytes), *c = malloc(bytes);
    void *scratch = aligned_alloc(64, 4 * cnn_cpu_gemm_thread_scratch_bytes());
    memcpy(serial, p.c0, bytes);
    cnn_cpu_gemm_own(kernel, p.m, p.n, p.k, p.alpha, mat_a(&p), mat_b(&p),
                     p.beta, serial, p.n + PAD, scratch);
    for (int threads = 1; threads <= 3; ++threads) {
#ifdef _OPENMP
        omp_set_num_threads(threads);
#endif
        ck_assert_uint_le(cnn_cpu_gemm_scratch_bytes(0),
                          4 * cnn_cpu_gemm_thread_scratch_bytes());
        memcpy(c, p.c0, bytes);
        cnn_cpu_sgemm(0, p.m, p.n, p.k, p.alpha, mat_a(&p), mat_b(&p), p.beta,
                      c, p.n + PAD, scratch);
        ck_assert_msg(memcmp(c, serial, bytes) == 0,
                      "%d threads differ from one", threads);
    }
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    check_result(&p, serial, "serial");
    free(serial);
    free(c);
    free(scratch);
    problem_free(&p);
}
END_TEST

START_TEST(cnn_info_names_the_gemm)
{
    const char *info = cnn_runtime_info();
    ck_assert_ptr_nonnull(strstr(info, "gemm: "));
    if (cnn_cpu_gemm_active() == CNN_CPU_GEMM_OWN)
        ck_assert_ptr_nonnull(strstr(info, "gemm: own"));
    else
        ck_assert_ptr_nonnull(strstr(info, "gemm: OpenBLAS"));
    const char *env = getenv("CNN_GEMM");
    if (env && strcmp(env, "own") == 0)
        ck_assert_int_eq(cnn_cpu_gemm_active(), CNN_CPU_GEMM_OWN);
}
END_TEST

static Suite *gemm_suite(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = cnn_test_case("gemm");
    tcase_add_test(tc, every_kernel_matches_reference);
    tcase_add_test(tc, active_gemm_matches_reference);
    tcase_add_test(tc, openblas_matches_reference);
    tcase_add_test(tc, own_gemm_is_independent_of_thread_count);
    tcase_add_test(tc, cnn_info_names_the_gemm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return cnn_test_run(gemm_suite());
}
