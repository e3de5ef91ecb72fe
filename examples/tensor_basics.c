/* examples/tensor_basics.c - a first program with cnn: make tensors on the
 * best device present, initialise them, run ReLU and a residual add, and
 * read the result back. Uses only the public API, and compiles as C and as
 * C++ (tensor_basics_cxx.cpp includes this file).
 *
 *   ./tensor_basics            # on the best device
 *   ./tensor_basics cpu        # or name one: cpu, cuda:0 */
#include <stdio.h>

#include <cnn/cnn.h>

#define CHECK(call)                                                         \
    do {                                                                    \
        cnn_status s_ = (call);                                             \
        if (s_ != CNN_OK) {                                                 \
            fprintf(stderr, "%s failed: %s: %s\n", #call,                   \
                    cnn_status_string(s_), cnn_last_error());               \
            goto done;                                                      \
        }                                                                   \
    } while (0)

int main(int argc, char **argv)
{
    int rc = 1;
    cnn_tensor *x = NULL, *y = NULL, *sum = NULL, *host = NULL;
    const int64_t dims[4] = {2, 3, 4, 4}; /* N, C, H, W */
    float values[2 * 3 * 4 * 4];
    double total = 0.0;
    cnn_device dev;
    char name[32];

    CHECK(cnn_device_parse(argc > 1 ? argv[1] : "auto", &dev));
    CHECK(cnn_device_check(dev));
    cnn_device_format(dev, name, sizeof name);
    printf("device: %s\n", cnn_device_name(dev));

    CHECK(cnn_tensor_create(&x, dev, CNN_F32, 4, dims));
    CHECK(cnn_tensor_create(&y, dev, CNN_F32, 4, dims));
    CHECK(cnn_tensor_create(&sum, dev, CNN_F32, 4, dims));
    CHECK(cnn_tensor_normal(x, 42, 0.0f, 1.0f)); /* x ~ N(0, 1), seed 42 */
    CHECK(cnn_relu_forward(y, x));                /* y = max(x, 0)        */
    CHECK(cnn_add(sum, x, y));                    /* sum = x + relu(x)    */

    /* Copy to a CPU tensor (any two devices work), then to plain memory. */
    CHECK(cnn_tensor_create(&host, cnn_cpu(), CNN_F32, 4, dims));
    CHECK(cnn_tensor_copy(host, sum));
    CHECK(cnn_tensor_read(host, values, sizeof values));
    for (int i = 0; i < (int)(sizeof values / sizeof values[0]); ++i)
        total += values[i];
    printf("%s: x + relu(x) over %lld elements sums to %.6f\n", name,
           (long long)cnn_tensor_numel(sum), total);
    rc = 0;
done:
    cnn_tensor_free(x);
    cnn_tensor_free(y);
    cnn_tensor_free(sum);
    cnn_tensor_free(host);
    return rc;
}
