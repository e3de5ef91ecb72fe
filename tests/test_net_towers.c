/* tests/test_net_towers.c - layers split over two logical devices
 * (cnn_net_set_shard) and AlexNet's two towers built that way
 * (cnn_model_alexnet_towers): the same weights from one seed as the
 * unsplit net, the same logits and losses, checkpoints that move between
 * the split and the whole net both ways (momentum included; shown on a
 * small net, since AlexNet's files are 0.5 GB), and clear errors for
 * shards that do not add up. Label: cpu. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

#define BATCH 2
#define CLASSES 10

static cnn_net *whole_net(uint64_t seed)
{
    cnn_net *net = NULL;
    ck_assert_ok(cnn_model_alexnet(&net, CNN_ALEXNET_TWO_TOWER, CLASSES,
                                   cnn_cpu()));
    ck_assert_ok(cnn_net_setup(net, BATCH));
    ck_assert_ok(cnn_net_init(net, seed));
    return net;
}

static cnn_net *split_net(uint64_t seed)
{
    cnn_net *net = NULL;
    ck_assert_ok(cnn_model_alexnet_towers(&net, CLASSES, cnn_cpu_n(0),
                                          cnn_cpu_n(1)));
    ck_assert_ok(cnn_net_setup(net, BATCH));
    ck_assert_ok(cnn_net_init(net, seed));
    return net;
}

/* Parameter `name` of `net` as one host array (its shards side by side, in
 * shard order, which is the order the net lists them); *count elements. */
static float *whole_param(cnn_net *net, const char *name, int64_t *count)
{
    int64_t total = 0;
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *n;
        cnn_tensor *w;
        ck_assert_ok(cnn_net_param(net, i, &n, &w, NULL));
        if (strcmp(n, name) == 0)
            total += cnn_tensor_numel(w);
    }
    ck_assert_int_gt(total, 0);
    float *out = malloc((size_t)total * sizeof *out);
    ck_assert_ptr_nonnull(out);
    int64_t at = 0;
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *n;
        cnn_tensor *w;
        ck_assert_ok(cnn_net_param(net, i, &n, &w, NULL));
        if (strcmp(n, name) != 0)
            continue;
        ck_assert_ok(cnn_tensor_read(w, out + at, cnn_tensor_bytes(w)));
        at += cnn_tensor_numel(w);
    }
    *count = total;
    return out;
}

/* Every parameter of `whole` equals, bit for bit, the same-named one of
 * `split`. */
static void assert_same_params(cnn_net *whole, cnn_net *split)
{
    ck_assert_int_eq(cnn_net_param_elements(whole),
                     cnn_net_param_elements(split));
    for (int i = 0; i < cnn_net_param_count(whole); ++i) {
        const char *name;
        ck_assert_ok(cnn_net_param(whole, i, &name, NULL, NULL));
        int64_t a_count, b_count;
        float *a = whole_param(whole, name, &a_count);
        float *b = whole_param(split, name, &b_count);
        ck_assert_int_eq(a_count, b_count);
        if (memcmp(a, b, (size_t)a_count * sizeof *a) != 0)
            ck_abort_msg("parameter %s differs between the nets", name);
        free(a);
        free(b);
    }
}

static cnn_tensor *alexnet_images(void)
{
    const int64_t dims[] = {BATCH, 3, 227, 227};
    cnn_tensor *x = NULL;
    ck_assert_ok(cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_ok(cnn_tensor_uniform(x, 5, -1.0f, 1.0f));
    return x;
}

START_TEST(one_seed_gives_the_same_weights_and_logits)
{
    cnn_net *whole = whole_net(11), *split = split_net(11);
    ck_assert_int_eq(cnn_net_param_elements(split), 56909194); /* 10 classes */
    assert_same_params(whole, split);
    cnn_tensor *x = alexnet_images();
    float a[BATCH * CLASSES], b[BATCH * CLASSES];
    ck_assert_ok(cnn_net_forward(whole, x, 0, 0));
    ck_assert_ok(cnn_tensor_read(cnn_net_output(whole), a, sizeof a));
    ck_assert_ok(cnn_net_forward(split, x, 0, 0));
    ck_assert_ok(cnn_tensor_read(cnn_net_output(split), b, sizeof b));
    for (int i = 0; i < BATCH * CLASSES; ++i)
        ck_assert_float_eq_tol(a[i], b[i], 1e-5f + 1e-4f * fabsf(a[i]));
    /* The towers really are apart: a shard of each conv on cpu:1. */
    int on_second = 0;
    for (int i = 0; i < cnn_net_param_count(split); ++i) {
        cnn_tensor *w;
        ck_assert_ok(cnn_net_param(split, i, NULL, &w, NULL));
        on_second += cnn_tensor_device(w).index == 1;
    }
    ck_assert_int_eq(on_second, 10); /* weight and bias of 5 split convs */
    cnn_tensor_free(x);
    cnn_net_free(whole);
    cnn_net_free(split);
}
END_TEST

/* A small net of two conv layers and a classifier on 3x8x8 images; with
 * `split`, each conv is two shards on cpu:0 and cpu:1 joined by a concat,
 * as the towers are. */
static cnn_net *tiny_net(bool split, uint64_t seed)
{
    cnn_net *net = NULL;
    cnn_node x, a, b;
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 1;
    const char *names[] = {"conv1", "conv2"};
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 3, 8, 8, &x));
    for (int layer = 0; layer < 2; ++layer) {
        if (!split) {
            ck_assert_ok(cnn_net_conv2d(net, x, names[layer], 6, 3, 3, &p, 1,
                                        CNN_INIT_TORCH_DEFAULT, &x));
        } else {
            ck_assert_ok(cnn_net_conv2d(net, x, names[layer], 3, 3, 3, &p, 1,
                                        CNN_INIT_TORCH_DEFAULT, &a));
            ck_assert_ok(cnn_net_conv2d(net, x, names[layer], 3, 3, 3, &p, 1,
                                        CNN_INIT_TORCH_DEFAULT, &b));
            ck_assert_ok(cnn_net_set_shard(net, a, 0, 2));
            ck_assert_ok(cnn_net_set_shard(net, b, 1, 2));
            ck_assert_ok(cnn_net_set_device(net, b, cnn_cpu_n(1)));
            const cnn_node both[] = {a, b};
            ck_assert_ok(cnn_net_concat(net, both, 2, &x));
        }
        ck_assert_ok(cnn_net_relu(net, x, &x));
    }
    ck_assert_ok(cnn_net_flatten(net, x, &x));
    ck_assert_ok(cnn_net_linear(net, x, "fc", CLASSES, 1,
                                CNN_INIT_TORCH_DEFAULT, &x));
    ck_assert_ok(cnn_net_setup(net, BATCH));
    ck_assert_ok(cnn_net_init(net, seed));
    return net;
}

/* One training step of the tiny net; returns the loss. */
static float train_step(cnn_net *net, cnn_sgd *opt)
{
    const int64_t dims[] = {BATCH, 3, 8, 8};
    cnn_tensor *x = NULL;
    ck_assert_ok(cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_ok(cnn_tensor_uniform(x, 5, -1.0f, 1.0f));
    const int32_t labels[BATCH] = {3, 7};
    const int64_t n = BATCH;
    cnn_tensor *y = NULL;
    ck_assert_ok(cnn_tensor_create(&y, cnn_cpu(), CNN_I32, 1, &n));
    ck_assert_ok(cnn_tensor_write(y, labels, sizeof labels));
    float loss;
    ck_assert_ok(cnn_net_zero_grad(net));
    ck_assert_ok(cnn_net_forward(net, x, 1, 0));
    ck_assert_ok(cnn_net_loss(net, y, &loss));
    ck_assert_ok(cnn_net_backward(net));
    ck_assert_ok(cnn_sgd_apply(opt, 0.05f));
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    return loss;
}

/* Every momentum buffer in checkpoint files a and b is equal. */
static void assert_same_momentum(const char *a_path, const char *b_path,
                                 cnn_net *net)
{
    cnn_checkpoint *a = NULL, *b = NULL;
    ck_assert_ok(cnn_checkpoint_open(&a, a_path));
    ck_assert_ok(cnn_checkpoint_open(&b, b_path));
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *param;
        ck_assert_ok(cnn_net_param(net, i, &param, NULL, NULL));
        char name[128];
        snprintf(name, sizeof name, "momentum.%s", param);
        cnn_dtype dtype;
        int ndim;
        int64_t dims[CNN_MAX_DIMS];
        ck_assert_ok(cnn_checkpoint_tensor_info(a, name, &dtype, &ndim, dims));
        cnn_tensor *ta = NULL, *tb = NULL;
        ck_assert_ok(cnn_tensor_create(&ta, cnn_cpu(), dtype, ndim, dims));
        ck_assert_ok(cnn_tensor_create(&tb, cnn_cpu(), dtype, ndim, dims));
        ck_assert_ok(cnn_checkpoint_read_tensor(a, name, ta));
        ck_assert_ok(cnn_checkpoint_read_tensor(b, name, tb));
        if (memcmp(cnn_tensor_data(ta), cnn_tensor_data(tb),
                   cnn_tensor_bytes(ta)) != 0)
            ck_abort_msg("%s differs between the files", name);
        cnn_tensor_free(ta);
        cnn_tensor_free(tb);
    }
    cnn_checkpoint_close(a);
    cnn_checkpoint_close(b);
}

START_TEST(checkpoints_move_between_split_and_whole)
{
    char split_file[] = "/tmp/cnn_towers_split_XXXXXX";
    char whole_file[] = "/tmp/cnn_towers_whole_XXXXXX";
    int fd = mkstemp(split_file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    fd = mkstemp(whole_file);
    ck_assert_int_ge(fd, 0);
    close(fd);
    cnn_net *split = tiny_net(true, 3), *whole = tiny_net(false, 3);
    assert_same_params(whole, split);
    cnn_sgd *split_opt = NULL, *whole_opt = NULL;
    ck_assert_ok(cnn_sgd_create(&split_opt, split, 0.9f, 5e-4f, 0));
    ck_assert_ok(cnn_sgd_create(&whole_opt, whole, 0.9f, 5e-4f, 0));
    /* Without dropout the split net trains as the whole one does. */
    for (int step = 0; step < 3; ++step) {
        float a = train_step(whole, whole_opt), b = train_step(split, split_opt);
        ck_assert_float_eq_tol(a, b, 1e-5f);
    }
    train_step(whole, whole_opt); /* now the two differ */

    /* Split -> whole. */
    ck_assert_ok(cnn_net_save(split, split_opt, split_file, NULL, NULL, 0));
    ck_assert_ok(cnn_net_load(whole, whole_opt, split_file, NULL));
    assert_same_params(whole, split);

    /* Whole -> split, after two steps have moved the split net away. */
    train_step(split, split_opt);
    train_step(split, split_opt);
    ck_assert_ok(cnn_net_save(whole, whole_opt, whole_file, NULL, NULL, 0));
    ck_assert_ok(cnn_net_load(split, split_opt, whole_file, NULL));
    assert_same_params(whole, split);
    /* The momentum came along too: saved again, the split net writes the
     * whole net's momentum buffers. */
    ck_assert_ok(cnn_net_save(split, split_opt, split_file, NULL, NULL, 0));
    assert_same_momentum(split_file, whole_file, whole);

    cnn_sgd_free(split_opt);
    cnn_sgd_free(whole_opt);
    cnn_net_free(split);
    cnn_net_free(whole);
    unlink(split_file);
    unlink(whole_file);
}
END_TEST

/* Labels on another device than the logits (a host loader feeding a GPU
 * net) are copied over: the same loss as labels beside the logits. */
START_TEST(labels_on_another_device_give_the_same_loss)
{
    cnn_net *net = tiny_net(false, 8);
    const int64_t dims[] = {BATCH, 3, 8, 8}, n = BATCH;
    const int32_t labels[BATCH] = {1, 9};
    cnn_tensor *x = NULL, *here = NULL, *there = NULL;
    ck_assert_ok(cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_ok(cnn_tensor_uniform(x, 2, -1.0f, 1.0f));
    ck_assert_ok(cnn_tensor_create(&here, cnn_cpu(), CNN_I32, 1, &n));
    ck_assert_ok(cnn_tensor_create(&there, cnn_cpu_n(1), CNN_I32, 1, &n));
    ck_assert_ok(cnn_tensor_write(here, labels, sizeof labels));
    ck_assert_ok(cnn_tensor_write(there, labels, sizeof labels));
    float a, b;
    ck_assert_ok(cnn_net_forward(net, x, 0, 0));
    ck_assert_ok(cnn_net_loss(net, here, &a));
    ck_assert_ok(cnn_net_loss(net, there, &b));
    ck_assert_float_eq(a, b);
    cnn_tensor_free(x);
    cnn_tensor_free(here);
    cnn_tensor_free(there);
    cnn_net_free(net);
}
END_TEST

START_TEST(shards_that_do_not_add_up_are_refused)
{
    cnn_net *net = NULL;
    cnn_node x, c, r;
    cnn_conv2d_params p = cnn_conv2d_params_default();
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 3, 8, 8, &x));
    ck_assert_ok(cnn_net_conv2d(net, x, "conv", 4, 3, 3, &p, 1,
                                CNN_INIT_TORCH_DEFAULT, &c));
    ck_assert_ok(cnn_net_relu(net, c, &r));
    ck_assert_fails(cnn_net_set_shard(net, r, 0, 2), CNN_ERR_INVALID_ARGUMENT,
                    "not a conv or linear");
    ck_assert_fails(cnn_net_set_shard(net, c, 2, 2), CNN_ERR_INVALID_ARGUMENT,
                    "shard 2 of 2");
    ck_assert_ok(cnn_net_set_shard(net, c, 0, 2));
    ck_assert_fails(cnn_net_setup(net, 1), CNN_ERR_INVALID_ARGUMENT,
                    "split in 2 shards but the net has 1");
    cnn_net_free(net);
}
END_TEST

int main(void)
{
    setenv("CNN_CPU_DEVICES", "2", 1);
    Suite *s = suite_create("net_towers");
    TCase *tc = cnn_test_case("towers");
    tcase_add_test(tc, one_seed_gives_the_same_weights_and_logits);
    tcase_add_test(tc, checkpoints_move_between_split_and_whole);
    tcase_add_test(tc, labels_on_another_device_give_the_same_loss);
    tcase_add_test(tc, shards_that_do_not_add_up_are_refused);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
