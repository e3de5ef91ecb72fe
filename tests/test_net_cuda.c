/* tests/test_net_cuda.c - whole networks on cuda:0 against the same
 * networks on the CPU: the small Fashion-MNIST net and a ResNet-18 on
 * 64x64 images (batch norm, residual adds, global pooling) trained a few
 * SGD steps from one seed (same weights, same dropout masks: Philox on
 * both), AlexNet's two towers on the GPU in inference, a checkpoint
 * written on the GPU read on the CPU, and no device memory left behind.
 * Label: cuda: on a real GPU (the vendor engine, cuDNN, by default);
 * exits 77 with a line saying why without one. As test_net_cuda_emu
 * (label emu, CNN_TEST_NET_SMALL=1) the small net alone, on our own kernels
 * under the CPU emulation of CUDA (the larger nets would take minutes
 * there). Runs with CK_FORK=no: no CUDA state before a fork. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static cnn_device gpu(void) { return cnn_cuda(0); }

/* Each parameter of a equals b's within tol (relative to the value). */
static void assert_params_close(cnn_net *a, cnn_net *b, float tol)
{
    ck_assert_int_eq(cnn_net_param_count(a), cnn_net_param_count(b));
    for (int i = 0; i < cnn_net_param_count(a); ++i) {
        const char *name;
        cnn_tensor *ta, *tb;
        ck_assert_ok(cnn_net_param(a, i, &name, &ta, NULL));
        ck_assert_ok(cnn_net_param(b, i, NULL, &tb, NULL));
        int64_t n = cnn_tensor_numel(ta);
        float *va = malloc((size_t)n * sizeof *va);
        float *vb = malloc((size_t)n * sizeof *vb);
        ck_assert_ok(cnn_tensor_read(ta, va, (size_t)n * sizeof *va));
        ck_assert_ok(cnn_tensor_read(tb, vb, (size_t)n * sizeof *vb));
        for (int64_t k = 0; k < n; ++k)
            if (fabsf(va[k] - vb[k]) > tol * (1e-3f + fabsf(va[k])))
                ck_abort_msg("%s[%lld]: cpu %g, gpu %g", name, (long long)k,
                             (double)va[k], (double)vb[k]);
        free(va);
        free(vb);
    }
}

static cnn_net *make(const char *model, int64_t classes, cnn_device dev,
                     int64_t batch)
{
    cnn_net *net = NULL;
    if (strcmp(model, "resnet18-64") == 0)
        ck_assert_ok(cnn_model_resnet(&net, 18, classes, 3, 64, 64, dev));
    else
        ck_assert_ok(cnn_model_by_name(&net, model, classes, dev));
    ck_assert_ok(cnn_net_setup(net, batch));
    ck_assert_ok(cnn_net_init(net, 17));
    return net;
}

/* Trains `model` `steps` SGD steps on the CPU and on the GPU from one
 * seed and one batch; the losses and then the weights agree. */
static void train_both(const char *model, int64_t c, int64_t hw,
                       int64_t batch, int steps, float loss_tol,
                       float weight_tol)
{
    const int64_t classes = 10;
    cnn_net *cpu = make(model, classes, cnn_cpu(), batch);
    cnn_net *cuda = make(model, classes, gpu(), batch);
    assert_params_close(cpu, cuda, 1e-6f); /* Philox: the same draws */
    const int64_t dims[] = {batch, c, hw, hw};
    cnn_tensor *x = NULL, *y = NULL;
    ck_assert_ok(cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_ok(cnn_tensor_uniform(x, 3, -1.0f, 1.0f));
    ck_assert_ok(cnn_tensor_create(&y, cnn_cpu(), CNN_I32, 1, &batch));
    int32_t *labels = malloc((size_t)batch * sizeof *labels);
    for (int64_t i = 0; i < batch; ++i)
        labels[i] = (int32_t)((i * 7) % classes);
    ck_assert_ok(cnn_tensor_write(y, labels, (size_t)batch * sizeof *labels));
    cnn_sgd *opt_cpu = NULL, *opt_gpu = NULL;
    ck_assert_ok(cnn_sgd_create(&opt_cpu, cpu, 0.9f, 5e-4f, 0));
    ck_assert_ok(cnn_sgd_create(&opt_gpu, cuda, 0.9f, 5e-4f, 0));
    for (int step = 0; step < steps; ++step) {
        float loss[2];
        cnn_net *nets[2] = {cpu, cuda};
        cnn_sgd *opts[2] = {opt_cpu, opt_gpu};
        for (int k = 0; k < 2; ++k) {
            /* labels stay on the host: the net copies them to the GPU */
            ck_assert_ok(cnn_net_zero_grad(nets[k]));
            ck_assert_ok(cnn_net_forward(nets[k], x, 1, (uint64_t)step));
            ck_assert_ok(cnn_net_loss(nets[k], y, &loss[k]));
            ck_assert_ok(cnn_net_backward(nets[k]));
            ck_assert_ok(cnn_sgd_apply(opts[k], 0.01f));
        }
        printf("%s step %d: loss cpu %.6f gpu %.6f\n", model, step,
               (double)loss[0], (double)loss[1]);
        ck_assert_float_eq_tol(loss[0], loss[1], loss_tol * fabsf(loss[0]));
    }
    assert_params_close(cpu, cuda, weight_tol);
    cnn_sgd_free(opt_cpu);
    cnn_sgd_free(opt_gpu);
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    free(labels);
    cnn_net_free(cpu);
    cnn_net_free(cuda);
}

START_TEST(small_net_trains_as_on_the_cpu)
{
    train_both("small", 1, 28, 16, 4, 1e-4f, 1e-3f);
}
END_TEST

/* 64x64 images and batch 8, so that layer4's batch norms see 2x2x8
 * values per channel: at 32x32 and batch 4 they see 4, and two steps
 * amplify float rounding so much that even the CPU's own two engines
 * disagree by a third in some gradients. */
START_TEST(resnet18_trains_as_on_the_cpu)
{
    train_both("resnet18-64", 3, 64, 8, 2, 1e-3f, 1e-2f);
}
END_TEST

START_TEST(alexnet_towers_infer_as_on_the_cpu)
{
    const int64_t batch = 2, classes = 10;
    /* The towers on cuda:0 and on the next GPU when there is one. */
    cnn_net *cpu = make("alexnet", classes, cnn_cpu(), batch);
    cnn_net *cuda = make("alexnet-towers", classes, gpu(), batch);
    const int64_t dims[] = {batch, 3, 227, 227};
    cnn_tensor *x = NULL;
    ck_assert_ok(cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims));
    ck_assert_ok(cnn_tensor_uniform(x, 4, -1.0f, 1.0f));
    float a[20], b[20];
    ck_assert_ok(cnn_net_forward(cpu, x, 0, 0));
    ck_assert_ok(cnn_tensor_read(cnn_net_output(cpu), a, sizeof a));
    ck_assert_ok(cnn_net_forward(cuda, x, 0, 0));
    ck_assert_ok(cnn_tensor_read(cnn_net_output(cuda), b, sizeof b));
    for (int i = 0; i < 20; ++i)
        ck_assert_float_eq_tol(a[i], b[i], 1e-4f + 1e-3f * fabsf(a[i]));
    /* A checkpoint of the GPU net loads into the CPU net. */
    char path[] = "/tmp/cnn_gpu_ckpt_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_ok(cnn_net_save(cuda, NULL, path, NULL, NULL, 0));
    ck_assert_ok(cnn_net_init(cpu, 99)); /* other weights, then the file's */
    ck_assert_ok(cnn_net_load(cpu, NULL, path, NULL));
    ck_assert_ok(cnn_net_forward(cpu, x, 0, 0));
    ck_assert_ok(cnn_tensor_read(cnn_net_output(cpu), a, sizeof a));
    for (int i = 0; i < 20; ++i)
        ck_assert_float_eq_tol(a[i], b[i], 1e-4f + 1e-3f * fabsf(a[i]));
    unlink(path);
    cnn_tensor_free(x);
    cnn_net_free(cpu);
    cnn_net_free(cuda);
}
END_TEST

START_TEST(nets_leave_no_device_memory_behind)
{
    /* The first net may grow the device's workspace and algorithm caches;
     * a second identical one must come and go without a byte more. */
    cnn_memory_stats first, second;
    for (int round = 0; round < 2; ++round) {
        cnn_net *net = make("small", 10, gpu(), 8);
        const int64_t dims[] = {8, 1, 28, 28};
        cnn_tensor *x = NULL;
        ck_assert_ok(cnn_tensor_create(&x, gpu(), CNN_F32, 4, dims));
        ck_assert_ok(cnn_tensor_uniform(x, 1, 0.0f, 1.0f));
        ck_assert_ok(cnn_net_forward(net, x, 0, 0));
        cnn_tensor_free(x);
        cnn_net_free(net);
        ck_assert_ok(cnn_device_memory_stats(gpu(), round ? &second : &first));
    }
    ck_assert_uint_eq(second.in_use, first.in_use);
}
END_TEST

int main(void)
{
    if (cnn_device_count(CNN_CUDA) == 0) {
        cnn_device_check(gpu());
        if (getenv("CNN_TEST_REQUIRE_CUDA")) {
            printf("test_net_cuda: FAILED: CNN_TEST_REQUIRE_CUDA is set but "
                   "there is no CUDA device: %s\n", cnn_last_error());
            return 1;
        }
        printf("test_net_cuda: skipped, no usable GPU: %s\n", cnn_last_error());
        return 77;
    }
    const int small_only = getenv("CNN_TEST_NET_SMALL") != NULL;
    Suite *s = suite_create("net_cuda");
    TCase *tc = cnn_test_case("net_cuda");
    tcase_add_test(tc, small_net_trains_as_on_the_cpu);
    if (!small_only) {
        tcase_add_test(tc, resnet18_trains_as_on_the_cpu);
        tcase_add_test(tc, alexnet_towers_infer_as_on_the_cpu);
    }
    tcase_add_test(tc, nets_leave_no_device_memory_behind);
    suite_add_tcase(s, tc);
    return cnn_test_run(s);
}
