/* tests/test_net.c - networks: ResNet parameter counts against
 * torchvision's, shape errors naming the node, gradients of a whole net
 * (residual and concat joins included) against finite differences, the
 * same seed giving the same losses, overfitting a small batch, nodes on two
 * logical devices giving the results of one, and checkpoints (round trip,
 * a resumed run matching an unbroken one bit for bit, a mismatched file
 * leaving the net unchanged). Label: cpu. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "test_util.h"

START_TEST(resnet_parameter_counts_match_torchvision)
{
    static const struct {
        int depth;
        int64_t params;
    } expected[] = {{18, 11689512}, {34, 21797672}, {50, 25557032},
                    {101, 44549160}, {152, 60192808}};
    for (int i = 0; i < 5; ++i) {
        cnn_net *net = NULL;
        ck_assert_ok(cnn_model_resnet(&net, expected[i].depth, 1000, 3, 32, 32,
                                      cnn_cpu()));
        ck_assert_ok(cnn_net_setup(net, 1));
        ck_assert_int_eq(cnn_net_param_elements(net), expected[i].params);
        const char *name;
        ck_assert_ok(cnn_net_param(net, 0, &name, NULL, NULL));
        ck_assert_str_eq(name, "conv1.weight");
        ck_assert_ok(cnn_net_param(net, cnn_net_param_count(net) - 1, &name,
                                   NULL, NULL));
        ck_assert_str_eq(name, "fc.bias");
        cnn_net_free(net);
    }
    /* Another class count and input size: only fc changes. */
    cnn_net *net = NULL;
    ck_assert_ok(cnn_model_resnet(&net, 18, 10, 1, 64, 48, cnn_cpu()));
    ck_assert_ok(cnn_net_setup(net, 2));
    ck_assert_int_eq(cnn_net_param_elements(net),
                     11689512 - 513 * 990 - 2 * 64 * 49);
    int ndim;
    int64_t dims[4];
    ck_assert_ok(cnn_net_node_shape(net, cnn_net_node_count(net) - 1, &ndim,
                                    dims));
    ck_assert_int_eq(ndim, 2);
    ck_assert_int_eq(dims[1], 10);
    cnn_net_free(net);
    ck_assert_fails(cnn_model_resnet(&net, 20, 10, 3, 64, 64, cnn_cpu()),
                    CNN_ERR_INVALID_ARGUMENT, "depth 20");
    ck_assert_fails(cnn_model_resnet(&net, 18, 10, 3, 31, 64, cnn_cpu()),
                    CNN_ERR_INVALID_ARGUMENT, "at least 32x32");
}
END_TEST

START_TEST(alexnet_shapes_follow_the_paper)
{
    for (int variant = 0; variant < 2; ++variant) {
        cnn_net *net = NULL;
        ck_assert_ok(cnn_model_alexnet(&net, (cnn_alexnet_variant)variant, 1000,
                                       cnn_cpu()));
        ck_assert_ok(cnn_net_setup(net, 1));
        /* conv1 55x55x96, conv2 27x27x256, conv5 13x13x256, pool 6x6x256. */
        const struct {
            cnn_node node;
            int64_t c, h;
        } want[] = {{1, 96, 55}, {5, 256, 27}, {13, 256, 13}, {15, 256, 6}};
        for (int i = 0; i < 4; ++i) {
            int ndim;
            int64_t dims[4];
            ck_assert_ok(cnn_net_node_shape(net, want[i].node, &ndim, dims));
            ck_assert_int_eq(dims[1], want[i].c);
            ck_assert_int_eq(dims[2], want[i].h);
        }
        const char *name;
        ck_assert_ok(cnn_net_param(net, 2, &name, NULL, NULL));
        ck_assert_str_eq(name, "features.4.weight");
        int64_t grouped = variant == CNN_ALEXNET_TWO_TOWER ? 2 : 1;
        int64_t params = (96 * 3 * 121 + 96) + (256 * 96 / grouped * 25 + 256) +
                         (384 * 256 * 9 + 384) +
                         (384 * 384 / grouped * 9 + 384) +
                         (256 * 384 / grouped * 9 + 256) +
                         (4096 * 9216 + 4096) + (4096 * 4096 + 4096) +
                         (1000 * 4096 + 1000);
        ck_assert_int_eq(cnn_net_param_elements(net), params);
        cnn_net_free(net);
    }
}
END_TEST

START_TEST(setup_errors_name_the_node)
{
    cnn_net *net = NULL;
    cnn_node x;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 3, 8, 8, &x));
    cnn_conv2d_params p = cnn_conv2d_params_default();
    ck_assert_ok(cnn_net_conv2d(net, x, "big", 4, 9, 9, &p, 1,
                                CNN_INIT_TORCH_DEFAULT, &x));
    ck_assert_fails(cnn_net_setup(net, 2), CNN_ERR_SHAPE, "node 1 (conv2d 'big')");
    /* The failed setup left the net buildable. */
    ck_assert_fails(cnn_net_relu(net, 7, &x), CNN_ERR_INVALID_ARGUMENT,
                    "node 7 does not exist");
    ck_assert_fails(cnn_net_input(net, 1, 1, 1, &x), CNN_ERR_INVALID_ARGUMENT,
                    "already has an input");
    ck_assert_fails(cnn_net_linear(net, 0, NULL, 3, 1, CNN_INIT_TORCH_DEFAULT,
                                   &x), CNN_ERR_INVALID_ARGUMENT, "name is NULL");
    cnn_net_free(net);
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 3, 8, 8, &x));
    ck_assert_ok(cnn_net_linear(net, x, "fc", 3, 1, CNN_INIT_TORCH_DEFAULT, &x));
    ck_assert_fails(cnn_net_setup(net, 2), CNN_ERR_SHAPE, "flatten it first");
    cnn_net_free(net);
    cnn_net_free(NULL);
}
END_TEST

/* cnn_net_concat takes up to CNN_NET_MAX_CONCAT_INPUTS inputs: that many
 * run forward (each part lands in its channel), one more is refused by
 * name, and the net's input as a part is refused at setup. */
START_TEST(concat_limit_is_named_and_checked)
{
    enum { parts = CNN_NET_MAX_CONCAT_INPUTS };
    cnn_net *net = NULL;
    cnn_node x, y, ids[parts + 1];
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 1, 1, 2, &x));
    for (int i = 0; i <= parts; ++i)
        ck_assert_ok(cnn_net_relu(net, x, &ids[i]));
    ck_assert_fails(cnn_net_concat(net, ids, parts + 1, &y),
                    CNN_ERR_INVALID_ARGUMENT, "CNN_NET_MAX_CONCAT_INPUTS");
    ck_assert_fails(cnn_net_concat(net, ids, 0, &y), CNN_ERR_INVALID_ARGUMENT,
                    "count is 0");
    ck_assert_ok(cnn_net_concat(net, ids, parts, &y));
    ck_assert_ok(cnn_net_setup(net, 1));
    int ndim;
    int64_t dims[4];
    ck_assert_ok(cnn_net_node_shape(net, y, &ndim, dims));
    ck_assert_int_eq(ndim, 4);
    ck_assert_int_eq(dims[1], parts);
    const int64_t in_dims[4] = {1, 1, 1, 2};
    const float in_values[2] = {-1.5f, 2.5f};
    cnn_tensor *in = cnn_test_tensor(4, in_dims, in_values);
    ck_assert_ok(cnn_net_forward(net, in, 0, 0));
    float out[2 * parts];
    ck_assert_ok(cnn_tensor_read(cnn_net_output(net), out, sizeof out));
    for (int i = 0; i < parts; ++i) { /* relu(-1.5), relu(2.5) */
        ck_assert_float_eq(out[2 * i], 0.0f);
        ck_assert_float_eq(out[2 * i + 1], 2.5f);
    }
    cnn_tensor_free(in);
    cnn_net_free(net);

    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 1, 1, 2, &x));
    ck_assert_ok(cnn_net_relu(net, x, &ids[0]));
    ids[1] = x;
    ck_assert_ok(cnn_net_concat(net, ids, 2, &y));
    ck_assert_fails(cnn_net_setup(net, 1), CNN_ERR_UNSUPPORTED,
                    "node 2 (concat): concat inputs must be distinct");
    cnn_net_free(net);
}
END_TEST

/* A tiny net with every join: conv, batch norm, relu, a residual add, a
 * two-tower concat, pooling, LRN, flatten, linear. */
static cnn_net *tiny_net(int64_t batch, cnn_device second)
{
    cnn_net *net = NULL;
    cnn_node x, a, b, c, y;
    ck_assert_ok(cnn_net_create(&net, cnn_cpu()));
    ck_assert_ok(cnn_net_input(net, 2, 6, 6, &x));
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 1;
    ck_assert_ok(cnn_net_conv2d(net, x, "conv1", 4, 3, 3, &p, 1,
                                CNN_INIT_TORCH_DEFAULT, &a));
    ck_assert_ok(cnn_net_batchnorm2d(net, a, "bn1", 0.1f, 1e-5f, &a));
    ck_assert_ok(cnn_net_relu(net, a, &a));
    ck_assert_ok(cnn_net_conv2d(net, a, "conv2", 4, 3, 3, &p, 0,
                                CNN_INIT_KAIMING_NORMAL_FAN_OUT, &b));
    ck_assert_ok(cnn_net_set_device(net, b, second)); /* maybe elsewhere */
    ck_assert_ok(cnn_net_add(net, b, a, &c)); /* the residual join */
    p.groups = 2;
    ck_assert_ok(cnn_net_conv2d(net, c, "tower", 4, 3, 3, &p, 1,
                                CNN_INIT_TORCH_DEFAULT, &y));
    const cnn_node both[2] = {c, y};
    ck_assert_ok(cnn_net_concat(net, both, 2, &x));
    const cnn_lrn_params lrn = {.size = 3, .alpha = 1e-2f, .beta = 0.75f,
                                .k = 2.0f, .groups = 2};
    ck_assert_ok(cnn_net_lrn(net, x, &lrn, &x));
    const cnn_pool2d_params pool = {.mode = CNN_POOL_AVG, .kernel_h = 2,
                                    .kernel_w = 2, .stride_h = 2,
                                    .stride_w = 2};
    ck_assert_ok(cnn_net_pool2d(net, x, &pool, &x));
    ck_assert_ok(cnn_net_flatten(net, x, &x));
    ck_assert_ok(cnn_net_linear(net, x, "fc", 3, 1, CNN_INIT_TORCH_DEFAULT,
                                &x));
    ck_assert_ok(cnn_net_setup(net, batch));
    ck_assert_ok(cnn_net_init(net, 11));
    return net;
}

static cnn_tensor *images(int64_t batch, uint32_t seed)
{
    const int64_t dims[4] = {batch, 2, 6, 6};
    float *v = malloc((size_t)(batch * 72) * sizeof *v);
    cnn_test_values(v, batch * 72, seed);
    cnn_tensor *t = cnn_test_tensor(4, dims, v);
    free(v);
    return t;
}

static cnn_tensor *labels(int64_t batch)
{
    cnn_tensor *t = NULL;
    int32_t l[8];
    for (int i = 0; i < 8; ++i)
        l[i] = i % 3;
    ck_assert_ok(cnn_tensor_create(&t, cnn_cpu(), CNN_I32, 1, &batch));
    ck_assert_ok(cnn_tensor_write(t, l, (size_t)batch * sizeof(int32_t)));
    return t;
}

/* In inference mode (batch norm on running statistics) the loss is a
 * smooth function of every parameter: the backward's gradient must match
 * central differences of the forward. */
START_TEST(net_gradient_matches_finite_differences)
{
    const int64_t batch = 4;
    cnn_net *net = tiny_net(batch, cnn_cpu());
    cnn_tensor *x = images(batch, 3), *y = labels(batch);
    float loss;
    ck_assert_ok(cnn_net_forward(net, x, 0, 0));
    ck_assert_ok(cnn_net_loss(net, y, &loss));
    ck_assert_ok(cnn_net_zero_grad(net));
    ck_assert_ok(cnn_net_backward(net));
    int checked = 0;
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *name;
        cnn_tensor *w, *g;
        ck_assert_ok(cnn_net_param(net, i, &name, &w, &g));
        int64_t n = cnn_tensor_numel(w);
        float *wv = malloc((size_t)n * sizeof *wv), *gv = malloc((size_t)n * sizeof *gv);
        ck_assert_ok(cnn_tensor_read(w, wv, (size_t)n * sizeof *wv));
        ck_assert_ok(cnn_tensor_read(g, gv, (size_t)n * sizeof *gv));
        for (int64_t k = 0; k < n; k += 1 + n / 5) { /* a few per tensor */
            const float h = 3e-3f;
            float keep = wv[k], up, down;
            wv[k] = keep + h;
            ck_assert_ok(cnn_tensor_write(w, wv, (size_t)n * sizeof *wv));
            ck_assert_ok(cnn_net_forward(net, x, 0, 0));
            ck_assert_ok(cnn_net_loss(net, y, &up));
            wv[k] = keep - h;
            ck_assert_ok(cnn_tensor_write(w, wv, (size_t)n * sizeof *wv));
            ck_assert_ok(cnn_net_forward(net, x, 0, 0));
            ck_assert_ok(cnn_net_loss(net, y, &down));
            wv[k] = keep;
            ck_assert_ok(cnn_tensor_write(w, wv, (size_t)n * sizeof *wv));
            double numeric = ((double)up - (double)down) / (2.0 * h);
            ck_assert_msg(fabs(numeric - gv[k]) <= 2e-3 + 2e-2 * fabs(numeric),
                          "%s[%lld]: backward %g, differences %g", name,
                          (long long)k, (double)gv[k], numeric);
            ++checked;
        }
        free(wv);
        free(gv);
    }
    ck_assert_int_gt(checked, 20);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_net_free(net);
}
END_TEST

/* Trains the tiny net for `steps` steps with SGD; fills losses[]. */
static void train_steps(cnn_net *net, cnn_sgd *opt, int first, int steps,
                        float *losses)
{
    cnn_tensor *y = labels(8);
    for (int s = first; s < first + steps; ++s) {
        cnn_tensor *x = images(8, (uint32_t)s % 2); /* two batches to learn */
        ck_assert_ok(cnn_net_forward(net, x, 1, (uint64_t)s));
        ck_assert_ok(cnn_net_loss(net, y, &losses[s]));
        ck_assert_ok(cnn_net_zero_grad(net));
        ck_assert_ok(cnn_net_backward(net));
        ck_assert_ok(cnn_sgd_apply(opt, 0.05f));
        cnn_tensor_free(x);
    }
    cnn_tensor_free(y);
}

START_TEST(same_seed_same_losses_and_two_devices_agree)
{
    float a[6], b[6], c[6];
    for (int run = 0; run < 3; ++run) {
        /* Runs 0 and 1 on one device; run 2 puts a layer on cpu:1. */
        cnn_net *net = tiny_net(8, run == 2 ? cnn_cpu_n(1) : cnn_cpu());
        cnn_sgd *opt = NULL;
        ck_assert_ok(cnn_sgd_create(&opt, net, 0.9f, 1e-4f, 0));
        train_steps(net, opt, 0, 6, run == 0 ? a : run == 1 ? b : c);
        cnn_sgd_free(opt);
        cnn_net_free(net);
    }
    ck_assert_mem_eq(a, b, sizeof a);
    ck_assert_mem_eq(a, c, sizeof a);
    ck_assert(a[5] < a[0]); /* it learns */
}
END_TEST

START_TEST(checkpoints_resume_bit_for_bit)
{
    char folder[64], path[128];
    snprintf(folder, sizeof folder, "/tmp/cnn-test-net-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(folder));
    snprintf(path, sizeof path, "%s/tiny.ckpt", folder);
    float straight[8], resumed[8];
    cnn_net *net = tiny_net(8, cnn_cpu());
    cnn_sgd *opt = NULL;
    ck_assert_ok(cnn_sgd_create(&opt, net, 0.9f, 1e-4f, 1));
    train_steps(net, opt, 0, 8, straight);
    cnn_sgd_free(opt);
    cnn_net_free(net);

    net = tiny_net(8, cnn_cpu());
    ck_assert_ok(cnn_sgd_create(&opt, net, 0.9f, 1e-4f, 1));
    train_steps(net, opt, 0, 3, resumed);
    const char *keys[1] = {"step"}, *values[1] = {"3"};
    ck_assert_ok(cnn_net_save(net, opt, path, keys, values, 1));
    cnn_sgd_free(opt);
    cnn_net_free(net);

    net = tiny_net(8, cnn_cpu());
    ck_assert_ok(cnn_net_init(net, 999)); /* other weights, then loaded */
    ck_assert_ok(cnn_sgd_create(&opt, net, 0.9f, 1e-4f, 1));
    cnn_checkpoint *meta = NULL;
    ck_assert_ok(cnn_net_load(net, opt, path, &meta));
    ck_assert_str_eq(cnn_checkpoint_meta(meta, "step"), "3");
    cnn_checkpoint_close(meta);
    train_steps(net, opt, 3, 5, resumed);
    ck_assert_mem_eq(straight, resumed, sizeof straight);
    cnn_sgd_free(opt);
    cnn_net_free(net);

    /* A checkpoint of another model changes nothing. */
    net = tiny_net(8, cnn_cpu());
    cnn_tensor *w;
    ck_assert_ok(cnn_net_param(net, 0, NULL, &w, NULL));
    float before[72], after[72];
    ck_assert_ok(cnn_tensor_read(w, before, sizeof before));
    cnn_net *other = NULL;
    ck_assert_ok(cnn_model_small(&other, 10, cnn_cpu()));
    ck_assert_ok(cnn_net_setup(other, 1));
    ck_assert_ok(cnn_net_init(other, 1));
    ck_assert_ok(cnn_net_save(other, NULL, path, NULL, NULL, 0));
    ck_assert_fails(cnn_net_load(net, NULL, path, NULL), CNN_ERR_SHAPE,
                    "'conv1.weight' in");
    ck_assert_ok(cnn_tensor_read(w, after, sizeof after));
    ck_assert_mem_eq(before, after, sizeof before);
    cnn_net_free(other);
    cnn_net_free(net);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", folder);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* The small net memorises 64 Fashion-MNIST images: 100% accuracy on them
 * in inference mode after a few dozen steps (the issue asks for 64; a
 * fixed set of them, so the test is deterministic). */
START_TEST(small_net_overfits_64_images)
{
    cnn_dataset *ds = NULL;
    ck_assert_ok(cnn_dataset_open_fashion_mnist(&ds, NULL, 1));
    cnn_net *net = NULL;
    ck_assert_ok(cnn_model_small(&net, 10, cnn_cpu()));
    ck_assert_ok(cnn_net_setup(net, 64));
    ck_assert_ok(cnn_net_init(net, 3));
    const int64_t idims[4] = {64, 1, 28, 28}, ldims[1] = {64};
    static float pixels[64 * 784];
    int32_t truth[64];
    for (int i = 0; i < 64; ++i)
        ck_assert_ok(cnn_dataset_get(ds, i, pixels + i * 784, &truth[i]));
    cnn_tensor *x = cnn_test_tensor(4, idims, pixels), *y = NULL;
    ck_assert_ok(cnn_tensor_create(&y, cnn_cpu(), CNN_I32, 1, ldims));
    ck_assert_ok(cnn_tensor_write(y, truth, sizeof truth));
    cnn_sgd *opt = NULL;
    ck_assert_ok(cnn_sgd_create(&opt, net, 0.9f, 0.0f, 0));
    float loss = 0.0f;
    for (int step = 0; step < 40; ++step) {
        ck_assert_ok(cnn_net_forward(net, x, 1, (uint64_t)step));
        ck_assert_ok(cnn_net_loss(net, y, &loss));
        ck_assert_ok(cnn_net_zero_grad(net));
        ck_assert_ok(cnn_net_backward(net));
        ck_assert_ok(cnn_sgd_apply(opt, 0.05f));
    }
    ck_assert_ok(cnn_net_forward(net, x, 0, 0));
    float logits[64 * 10];
    ck_assert_ok(cnn_tensor_read(cnn_net_output(net), logits, sizeof logits));
    int right = 0;
    for (int i = 0; i < 64; ++i) {
        int best = 0;
        for (int c = 1; c < 10; ++c)
            best = logits[i * 10 + c] > logits[i * 10 + best] ? c : best;
        right += best == truth[i];
    }
    ck_assert_msg(right == 64, "%d of 64 right after 40 steps (loss %g)",
                  right, (double)loss);
    cnn_sgd_free(opt);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_net_free(net);
    cnn_dataset_free(ds);
}
END_TEST

int main(void)
{
    setenv("CNN_CPU_DEVICES", "2", 1);
    Suite *s = suite_create("net");
    TCase *tc = cnn_test_case("net");
    tcase_add_test(tc, resnet_parameter_counts_match_torchvision);
    tcase_add_test(tc, alexnet_shapes_follow_the_paper);
    tcase_add_test(tc, setup_errors_name_the_node);
    tcase_add_test(tc, concat_limit_is_named_and_checked);
    tcase_add_test(tc, net_gradient_matches_finite_differences);
    tcase_add_test(tc, same_seed_same_losses_and_two_devices_agree);
    tcase_add_test(tc, checkpoints_resume_bit_for_bit);
    tcase_add_test(tc, small_net_overfits_64_images);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
