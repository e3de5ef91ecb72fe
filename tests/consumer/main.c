/* A host program that only includes the installed header. */
#include <stdio.h>

#include <cnn/cnn.h>

int main(void)
{
    cnn_tensor *t = NULL;
    const int64_t dims[2] = {3, 3};
    float v[9];
    if (cnn_tensor_create(&t, cnn_cpu(), CNN_F32, 2, dims) != CNN_OK ||
        cnn_tensor_fill(t, 2.0) != CNN_OK ||
        cnn_tensor_read(t, v, sizeof v) != CNN_OK) {
        fprintf(stderr, "consumer: %s\n", cnn_last_error());
        return 1;
    }
    cnn_tensor_free(t);
    printf("consumer: cnn %s, v[8] = %g\n", cnn_version(), (double)v[8]);
    return v[8] == 2.0f ? 0 : 1;
}
