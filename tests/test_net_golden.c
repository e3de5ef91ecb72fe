/* tests/test_net_golden.c - whole networks against PyTorch: a tiny
 * two-tower AlexNet-like net (grouped convs; LRN within each tower, which
 * PyTorch computes as split + LRN + concat) and a tiny two-block ResNet
 * (batch norm, residual joins, a downsample). From the same weights and
 * batch: the logits, the loss, every parameter's gradient, then five SGD
 * steps (momentum, weight decay): the losses, the final weights and the
 * batch norm running statistics. Fixtures from tests/fixtures/make_net.py,
 * computed in float64. Label: cpu. */
#include <math.h>
#include <stdio.h>

#include "fixture.h"
#include "test_util.h"

#define TRY(call) ck_assert_ok(call)

static cnn_net *tiny_alexnet(void)
{
    cnn_net *net = NULL;
    cnn_node x;
    cnn_conv2d_params p = cnn_conv2d_params_default();
    const cnn_lrn_params lrn = {.size = 3, .alpha = 0.3f, .beta = 0.75f,
                                .k = 2.0f, .groups = 2};
    const cnn_pool2d_params pool = {.mode = CNN_POOL_MAX, .kernel_h = 3,
                                    .kernel_w = 3, .stride_h = 2,
                                    .stride_w = 2};
    const cnn_init init = CNN_INIT_TORCH_DEFAULT;
    TRY(cnn_net_create(&net, cnn_cpu()));
    TRY(cnn_net_input(net, 3, 19, 19, &x));
    p.stride_h = p.stride_w = 2;
    TRY(cnn_net_conv2d(net, x, "features.0", 8, 5, 5, &p, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_lrn(net, x, &lrn, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    p = cnn_conv2d_params_default();
    p.pad_h = p.pad_w = 1;
    p.groups = 2;
    TRY(cnn_net_conv2d(net, x, "features.4", 8, 3, 3, &p, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_lrn(net, x, &lrn, &x));
    p.groups = 1;
    TRY(cnn_net_conv2d(net, x, "features.8", 6, 3, 3, &p, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_pool2d(net, x, &pool, &x));
    TRY(cnn_net_flatten(net, x, &x));
    TRY(cnn_net_linear(net, x, "classifier.1", 10, 1, init, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_linear(net, x, "classifier.4", 5, 1, init, &x));
    TRY(cnn_net_setup(net, 3));
    TRY(cnn_net_init(net, 1));
    return net;
}

static void conv_bn(cnn_net *net, cnn_node *x, const char *conv,
                    const char *bn, int64_t out, int64_t k, int64_t stride)
{
    cnn_conv2d_params p = cnn_conv2d_params_default();
    p.stride_h = p.stride_w = stride;
    p.pad_h = p.pad_w = k / 2;
    TRY(cnn_net_conv2d(net, *x, conv, out, k, k, &p, 0,
                       CNN_INIT_KAIMING_NORMAL_FAN_OUT, x));
    TRY(cnn_net_batchnorm2d(net, *x, bn, 0.1f, 1e-5f, x));
}

static cnn_net *tiny_resnet(void)
{
    cnn_net *net = NULL;
    cnn_node x, y, s;
    TRY(cnn_net_create(&net, cnn_cpu()));
    TRY(cnn_net_input(net, 3, 8, 8, &x));
    conv_bn(net, &x, "conv1", "bn1", 4, 3, 1);
    TRY(cnn_net_relu(net, x, &x));
    y = x;
    conv_bn(net, &y, "layer1.0.conv1", "layer1.0.bn1", 4, 3, 1);
    TRY(cnn_net_relu(net, y, &y));
    conv_bn(net, &y, "layer1.0.conv2", "layer1.0.bn2", 4, 3, 1);
    TRY(cnn_net_add(net, y, x, &x));
    TRY(cnn_net_relu(net, x, &x));
    y = s = x;
    conv_bn(net, &y, "layer2.0.conv1", "layer2.0.bn1", 8, 3, 2);
    TRY(cnn_net_relu(net, y, &y));
    conv_bn(net, &y, "layer2.0.conv2", "layer2.0.bn2", 8, 3, 1);
    conv_bn(net, &s, "layer2.0.downsample.0", "layer2.0.downsample.1", 8, 1, 2);
    TRY(cnn_net_add(net, y, s, &x));
    TRY(cnn_net_relu(net, x, &x));
    TRY(cnn_net_global_avgpool(net, x, &x));
    TRY(cnn_net_flatten(net, x, &x));
    TRY(cnn_net_linear(net, x, "fc", 5, 1, CNN_INIT_TORCH_DEFAULT, &x));
    TRY(cnn_net_setup(net, 3));
    TRY(cnn_net_init(net, 1));
    return net;
}

/* Compares a tensor with fixture tensor `key` within atol + rtol * |want|. */
static void expect_close(const cnn_fixture *f, const char *key,
                         const cnn_tensor *t, double atol, double rtol)
{
    const cnn_fixture_tensor *want = cnn_fixture_get(f, key);
    ck_assert_int_eq(want->numel, cnn_tensor_numel(t));
    float got[4096];
    ck_assert_int_le(want->numel, 4096);
    ck_assert_ok(cnn_tensor_read(t, got, cnn_tensor_bytes(t)));
    const float *w = want->data;
    for (int64_t i = 0; i < want->numel; ++i)
        ck_assert_msg(fabs((double)got[i] - w[i]) <= atol + rtol * fabs(w[i]),
                      "%s[%lld]: cnn %.7g, PyTorch %.7g", key, (long long)i,
                      (double)got[i], (double)w[i]);
}

/* Loads the fixture's initial weights into the net (by torchvision name). */
static void load_weights(cnn_net *net, const cnn_fixture *f, const char *tag)
{
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *name;
        cnn_tensor *w;
        TRY(cnn_net_param(net, i, &name, &w, NULL));
        char key[160];
        snprintf(key, sizeof key, "%s.init.%s", tag, name);
        const cnn_fixture_tensor *v = cnn_fixture_get(f, key);
        ck_assert_int_eq(v->numel, cnn_tensor_numel(w));
        TRY(cnn_tensor_write(w, v->data, cnn_tensor_bytes(w)));
    }
}

static void check_net(cnn_net *net, const char *tag)
{
    cnn_fixture *f = cnn_fixture_load("net.bin");
    char key[160];
    snprintf(key, sizeof key, "%s.input", tag);
    const cnn_fixture_tensor *in = cnn_fixture_get(f, key);
    cnn_tensor *x = cnn_test_tensor(4, in->dims, in->data), *y = NULL;
    snprintf(key, sizeof key, "%s.labels", tag);
    const cnn_fixture_tensor *lab = cnn_fixture_get(f, key);
    TRY(cnn_tensor_create(&y, cnn_cpu(), CNN_I32, 1, lab->dims));
    TRY(cnn_tensor_write(y, lab->data, cnn_tensor_bytes(y)));

    load_weights(net, f, tag);
    float loss;
    TRY(cnn_net_forward(net, x, 1, 0));
    snprintf(key, sizeof key, "%s.logits", tag);
    expect_close(f, key, cnn_net_output(net), 2e-5, 1e-4);
    TRY(cnn_net_loss(net, y, &loss));
    snprintf(key, sizeof key, "%s.loss", tag);
    ck_assert_double_eq_tol(loss, cnn_fixture_floats(f, key)[0], 1e-5);
    TRY(cnn_net_zero_grad(net));
    TRY(cnn_net_backward(net));
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *name;
        cnn_tensor *g;
        TRY(cnn_net_param(net, i, &name, NULL, &g));
        snprintf(key, sizeof key, "%s.grad.%s", tag, name);
        expect_close(f, key, g, 2e-5, 1e-3);
    }

    /* Five SGD steps from the same start; batch norm buffers reset. */
    TRY(cnn_net_init(net, 1));
    load_weights(net, f, tag);
    cnn_sgd *opt = NULL;
    TRY(cnn_sgd_create(&opt, net, 0.9f, 1e-3f, 0));
    snprintf(key, sizeof key, "%s.losses", tag);
    const float *losses = cnn_fixture_floats(f, key);
    for (int step = 0; step < 5; ++step) {
        TRY(cnn_net_forward(net, x, 1, (uint64_t)step));
        TRY(cnn_net_loss(net, y, &loss));
        ck_assert_msg(fabs(loss - losses[step]) <= 1e-4,
                      "%s step %d: loss %.7g, PyTorch %.7g", tag, step,
                      (double)loss, (double)losses[step]);
        TRY(cnn_net_zero_grad(net));
        TRY(cnn_net_backward(net));
        TRY(cnn_sgd_apply(opt, 0.05f));
    }
    for (int i = 0; i < cnn_net_param_count(net); ++i) {
        const char *name;
        cnn_tensor *w;
        TRY(cnn_net_param(net, i, &name, &w, NULL));
        snprintf(key, sizeof key, "%s.final.%s", tag, name);
        expect_close(f, key, w, 5e-5, 1e-3);
    }
    for (int i = 0; i < cnn_net_buffer_count(net); ++i) {
        const char *name;
        cnn_tensor *b;
        TRY(cnn_net_buffer(net, i, &name, &b));
        snprintf(key, sizeof key, "%s.final.%s", tag, name);
        expect_close(f, key, b, 5e-5, 1e-3);
    }
    cnn_sgd_free(opt);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_fixture_free(f);
}

START_TEST(two_tower_alexnet_matches_pytorch)
{
    cnn_net *net = tiny_alexnet();
    check_net(net, "alex");
    cnn_net_free(net);
}
END_TEST

START_TEST(two_block_resnet_matches_pytorch)
{
    cnn_net *net = tiny_resnet();
    ck_assert_int_eq(cnn_net_buffer_count(net), 12);
    check_net(net, "res");
    cnn_net_free(net);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("net_golden");
    TCase *tc = cnn_test_case("net_golden");
    tcase_add_test(tc, two_tower_alexnet_matches_pytorch);
    tcase_add_test(tc, two_block_resnet_matches_pytorch);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
