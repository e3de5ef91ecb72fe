/* tests/test_concat.c - channel concat and split on the CPU: against an
 * index-by-index reference here on every engine and thread count, for
 * ranks 2 to 5, 1 to 7 parts, odd channel counts and every dtype; split
 * as concat's backward (a directional derivative); PyTorch's torch.cat
 * (fixture); bad arguments. Label: cpu. */
#include <stdio.h>
#include <stdlib.h>

#include "fixture.h"
#include "misc_guard.h"

static const cnn_engine engines[] = {CNN_ENGINE_AUTO, CNN_ENGINE_NATIVE,
                                     CNN_ENGINE_REFERENCE};

#define MAX_PARTS 7

typedef struct concat_case {
    int ndim;
    int64_t dims[5]; /* dims[1] unused: the parts' channels are below */
    int count;
    int64_t channels[MAX_PARTS];
} concat_case;

static const concat_case cases[] = {
    {2, {1, 0}, 1, {1}},
    {2, {3, 0}, 2, {1, 4}},
    {3, {2, 0, 5}, 3, {3, 1, 2}},
    {4, {1, 0, 1, 1}, 4, {5, 3, 1, 2}},
    {4, {2, 0, 7, 3}, 7, {1, 2, 3, 4, 5, 6, 7}},
    {5, {2, 0, 3, 2, 2}, 2, {2, 3}},
    {4, {3, 0, 37, 101}, 3, {5, 7, 1}}, /* 580 kB: two threads or more */
};
#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static void part_dims(const concat_case *c, int i, int64_t *dims)
{
    for (int d = 0; d < c->ndim; ++d)
        dims[d] = c->dims[d];
    dims[1] = i < 0 ? 0 : c->channels[i];
    if (i < 0)
        for (int k = 0; k < c->count; ++k)
            dims[1] += c->channels[k];
}

/* Element count of part i (i < 0: the joined tensor). */
static int64_t numel_of(const concat_case *c, int i)
{
    int64_t dims[5], n = 1;
    part_dims(c, i, dims);
    for (int d = 0; d < c->ndim; ++d)
        n *= dims[d];
    return n;
}

/* Where element e of part i lands in the joined tensor. */
static int64_t joined_index(const concat_case *c, int i, int64_t e)
{
    int64_t inner = 1, total = 0, before = 0;
    for (int d = 2; d < c->ndim; ++d)
        inner *= c->dims[d];
    for (int k = 0; k < c->count; ++k) {
        if (k < i)
            before += c->channels[k];
        total += c->channels[k];
    }
    int64_t per_row = c->channels[i] * inner;
    int64_t row = e / per_row, rest = e % per_row;
    return row * total * inner + before * inner + rest;
}

/* Concat then split of distinct byte patterns, on every dtype, engine and
 * thread count, checked byte by byte against joined_index. */
static void run_case(const concat_case *c, cnn_dtype dtype, cnn_engine engine)
{
    size_t size = cnn_dtype_size(dtype);
    cnn_tensor *parts[MAX_PARTS];
    unsigned char *values[MAX_PARTS];
    for (int i = 0; i < c->count; ++i) {
        int64_t dims[5], n = numel_of(c, i);
        part_dims(c, i, dims);
        ck_assert_ok(cnn_tensor_create(&parts[i], cnn_cpu(), dtype, c->ndim,
                                       dims));
        values[i] = malloc((size_t)n * size);
        for (size_t b = 0; b < (size_t)n * size; ++b)
            values[i][b] = (unsigned char)(b * 31u + (unsigned)i * 7u + 1u);
        ck_assert_ok(cnn_tensor_write(parts[i], values[i], (size_t)n * size));
    }
    int64_t joined_dims[5];
    part_dims(c, -1, joined_dims);
    guarded out = guarded_create(dtype, c->ndim, joined_dims);
    ck_assert_ok(cnn_concat(out.t, (const cnn_tensor *const *)parts,
                            c->count));
    const unsigned char *got = guarded_data(&out);
    for (int i = 0; i < c->count; ++i) {
        int64_t n = numel_of(c, i);
        for (int64_t e = 0; e < n; ++e) {
            const unsigned char *want = values[i] + e * (int64_t)size;
            const unsigned char *at = got + joined_index(c, i, e) * (int64_t)size;
            for (size_t b = 0; b < size; ++b)
                if (at[b] != want[b])
                    ck_abort_msg("concat (%s, %s): part %d element %lld",
                                 cnn_dtype_name(dtype),
                                 cnn_engine_name(engine), i, (long long)e);
        }
    }
    guarded back[MAX_PARTS];
    cnn_tensor *outs[MAX_PARTS];
    for (int i = 0; i < c->count; ++i) {
        int64_t dims[5];
        part_dims(c, i, dims);
        back[i] = guarded_create(dtype, c->ndim, dims);
        outs[i] = back[i].t;
    }
    ck_assert_ok(cnn_split(outs, c->count, out.t));
    for (int i = 0; i < c->count; ++i) {
        ck_assert_msg(memcmp(guarded_data(&back[i]), values[i],
                             (size_t)numel_of(c, i) * size) == 0,
                      "split (%s, %s): part %d", cnn_dtype_name(dtype),
                      cnn_engine_name(engine), i);
        guarded_free(&back[i]);
        cnn_tensor_free(parts[i]);
        free(values[i]);
    }
    guarded_free(&out);
}

START_TEST(concat_split_match_reference)
{
    static const cnn_dtype dtypes[] = {CNN_F32, CNN_I32, CNN_I64, CNN_U8};
    cnn_engine saved = cnn_get_engine(cnn_cpu());
    for (int k = 0; k < CASE_COUNT; ++k)
        for (int d = 0; d < (k == CASE_COUNT - 1 ? 1 : 4); ++d)
            for (int e = 0; e < 3; ++e) { /* the big case: F32 only */
                ck_assert_ok(cnn_set_engine(cnn_cpu(), engines[e]));
                run_case(&cases[k], dtypes[d], engines[e]);
            }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), CNN_ENGINE_NATIVE));
    for (int threads = 1; threads <= 3; ++threads) {
        misc_set_threads(threads);
        run_case(&cases[CASE_COUNT - 1], CNN_F32, CNN_ENGINE_NATIVE);
    }
    ck_assert_ok(cnn_set_engine(cnn_cpu(), saved));
}
END_TEST

/* L(parts) = <w, concat(parts)> in double. */
static double ref_objective(const concat_case *c, const float *w,
                            double *const *parts)
{
    double l = 0.0;
    for (int i = 0; i < c->count; ++i) {
        int64_t n = numel_of(c, i);
        for (int64_t e = 0; e < n; ++e)
            l += w[joined_index(c, i, e)] * parts[i][e];
    }
    return l;
}

/* The gradient of L with respect to part i is slice i of w: checked by
 * central differences on the reference, then the library's split of w
 * (concat's backward) must give exactly those slices. */
START_TEST(split_is_concat_gradient)
{
    const concat_case *c = &cases[2]; /* three parts, [2, 6, 5] */
    int64_t joined = numel_of(c, -1);
    float *w = malloc((size_t)joined * sizeof *w);
    cnn_test_values(w, joined, 17);
    int64_t jdims[5];
    part_dims(c, -1, jdims);
    cnn_tensor *wt = cnn_test_tensor(c->ndim, jdims, w);
    guarded g[MAX_PARTS];
    cnn_tensor *outs[MAX_PARTS];
    double *x[MAX_PARTS];
    for (int i = 0; i < c->count; ++i) {
        int64_t dims[5], n = numel_of(c, i);
        part_dims(c, i, dims);
        g[i] = guarded_create(CNN_F32, c->ndim, dims);
        outs[i] = g[i].t;
        x[i] = malloc((size_t)n * sizeof *x[i]);
        for (int64_t e = 0; e < n; ++e)
            x[i][e] = 0.25 * (double)((e * 13 + i) % 7) - 0.75;
    }
    ck_assert_ok(cnn_split(outs, c->count, wt));
    const double h = 1e-3;
    for (int i = 0; i < c->count; ++i) {
        const float *gi = guarded_data(&g[i]);
        for (int64_t e = 0; e < numel_of(c, i); ++e) {
            double keep = x[i][e];
            x[i][e] = keep + h;
            double plus = ref_objective(c, w, x);
            x[i][e] = keep - h;
            double minus = ref_objective(c, w, x);
            x[i][e] = keep;
            double want = w[joined_index(c, i, e)];
            ck_assert_double_eq_tol((plus - minus) / (2 * h), want, 1e-9);
            ck_assert(gi[e] == (float)want);
        }
    }
    for (int i = 0; i < c->count; ++i) {
        guarded_free(&g[i]);
        free(x[i]);
    }
    cnn_tensor_free(wt);
    free(w);
}
END_TEST

START_TEST(concat_matches_pytorch)
{
    static const struct {
        const char *name;
        int count;
    } fx[] = {{"cat3", 3}, {"cat4", 2}};
    cnn_fixture *f = cnn_fixture_load("misc.bin");
    for (int k = 0; k < 2; ++k) {
        cnn_tensor *parts[3];
        char key[32];
        for (int i = 0; i < fx[k].count; ++i) {
            snprintf(key, sizeof key, "%s.in%d", fx[k].name, i);
            const cnn_fixture_tensor *t = cnn_fixture_get(f, key);
            parts[i] = cnn_test_tensor(t->ndim, t->dims,
                                       cnn_fixture_floats(f, key));
        }
        snprintf(key, sizeof key, "%s.out", fx[k].name);
        const cnn_fixture_tensor *want = cnn_fixture_get(f, key);
        guarded out = guarded_create(CNN_F32, want->ndim, want->dims);
        ck_assert_ok(cnn_concat(out.t, (const cnn_tensor *const *)parts,
                                fx[k].count));
        ck_assert(memcmp(guarded_data(&out), want->data,
                         (size_t)want->numel * 4) == 0);
        guarded_free(&out);
        for (int i = 0; i < fx[k].count; ++i)
            cnn_tensor_free(parts[i]);
    }
    cnn_fixture_free(f);
}
END_TEST

START_TEST(concat_rejects_bad_arguments)
{
    const int64_t a_dims[4] = {2, 3, 4, 5}, b_dims[4] = {2, 2, 4, 5},
                  out_dims[4] = {2, 5, 4, 5}, wrong_n[4] = {3, 2, 4, 5},
                  wrong_h[4] = {2, 2, 5, 5}, flat[1] = {10}, r3[3] = {2, 2, 20};
    cnn_tensor *a = cnn_test_tensor(4, a_dims, NULL);
    cnn_tensor *b = cnn_test_tensor(4, b_dims, NULL);
    cnn_tensor *out = cnn_test_tensor(4, out_dims, NULL);
    cnn_tensor *bn = cnn_test_tensor(4, wrong_n, NULL);
    cnn_tensor *bh = cnn_test_tensor(4, wrong_h, NULL);
    cnn_tensor *b3 = cnn_test_tensor(3, r3, NULL);
    cnn_tensor *f1 = cnn_test_tensor(1, flat, NULL);
    cnn_tensor *bi = NULL, *alias = NULL;
    ck_assert_ok(cnn_tensor_create(&bi, cnn_cpu(), CNN_I32, 4, b_dims));
    ck_assert_ok(cnn_tensor_wrap(&alias, cnn_cpu(), CNN_F32, 4, b_dims,
                                 (float *)cnn_tensor_data(out) + 10,
                                 cnn_tensor_bytes(b)));
    const cnn_tensor *ok[2] = {a, b};
    ck_assert_ok(cnn_concat(out, ok, 2));
    ck_assert_fails(cnn_concat(NULL, ok, 2), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_concat: out is NULL");
    ck_assert_fails(cnn_concat(out, NULL, 2), CNN_ERR_INVALID_ARGUMENT,
                    "inputs is NULL");
    ck_assert_fails(cnn_concat(out, ok, 0), CNN_ERR_INVALID_ARGUMENT,
                    "count must be >= 1");
    const cnn_tensor *with_null[2] = {a, NULL};
    ck_assert_fails(cnn_concat(out, with_null, 2), CNN_ERR_INVALID_ARGUMENT,
                    "inputs[1] is NULL");
    const cnn_tensor *n_differs[2] = {a, bn};
    ck_assert_fails(cnn_concat(out, n_differs, 2), CNN_ERR_SHAPE,
                    "inputs[1] has shape [3x2x4x5] but out has [2x5x4x5]");
    const cnn_tensor *h_differs[2] = {a, bh};
    ck_assert_fails(cnn_concat(out, h_differs, 2), CNN_ERR_SHAPE,
                    "only dimension 1 may differ");
    const cnn_tensor *rank_differs[2] = {a, b3};
    ck_assert_fails(cnn_concat(out, rank_differs, 2), CNN_ERR_SHAPE,
                    "inputs[1] has shape [2x2x20] but must have 4");
    ck_assert_fails(cnn_concat(out, ok, 1), CNN_ERR_SHAPE,
                    "out has 5 channels but inputs have 3 in all");
    const cnn_tensor *too_many[3] = {a, b, b};
    ck_assert_fails(cnn_concat(out, too_many, 3), CNN_ERR_SHAPE,
                    "inputs have more than 5 in all");
    const cnn_tensor *dtype_differs[2] = {a, bi};
    ck_assert_fails(cnn_concat(out, dtype_differs, 2),
                    CNN_ERR_INVALID_ARGUMENT, "inputs[1] is i32 but must be f32");
    const cnn_tensor *one_d[1] = {f1};
    ck_assert_fails(cnn_concat(f1, one_d, 1), CNN_ERR_SHAPE,
                    "at least 2 dimensions");
    const cnn_tensor *aliased[2] = {a, alias};
    ck_assert_fails(cnn_concat(out, aliased, 2), CNN_ERR_INVALID_ARGUMENT,
                    "inputs[1] shares memory with out");
    cnn_tensor *split_same[2] = {b, b};
    cnn_tensor *four = NULL;
    const int64_t four_dims[4] = {2, 4, 4, 5};
    ck_assert_ok(cnn_tensor_create(&four, cnn_cpu(), CNN_F32, 4, four_dims));
    ck_assert_fails(cnn_split(split_same, 2, four), CNN_ERR_INVALID_ARGUMENT,
                    "outputs[1] shares memory with in or another output");
    cnn_tensor *split_ok[2] = {a, b};
    ck_assert_fails(cnn_split(split_ok, 2, four), CNN_ERR_SHAPE,
                    "cnn_split: in has 4 channels but outputs have more");
    ck_assert_fails(cnn_split(split_ok, 2, NULL), CNN_ERR_INVALID_ARGUMENT,
                    "cnn_split: in is NULL");
    ck_assert_ok(cnn_split(split_ok, 2, out));
    cnn_tensor *ts[] = {a, b, out, bn, bh, b3, f1, bi, alias, four};
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; ++i)
        cnn_tensor_free(ts[i]);
}
END_TEST

int main(void)
{
    Suite *suite = suite_create("concat");
    TCase *tc = cnn_test_case("concat_split");
    tcase_add_test(tc, concat_split_match_reference);
    tcase_add_test(tc, split_is_concat_gradient);
    tcase_add_test(tc, concat_matches_pytorch);
    tcase_add_test(tc, concat_rejects_bad_arguments);
    suite_add_tcase(suite, tc);
    return cnn_test_run(suite);
}
