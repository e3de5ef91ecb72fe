/* tests/resnet_logits.c - runs cnn's ResNet-18 (1000 classes, 64x64 RGB
 * input, inference mode) on a batch of 2 read from a raw float32 file and
 * writes the logits as raw float32: the C side of tests/check_convert.py.
 *
 *   resnet_logits CHECKPOINT INPUT.f32 OUTPUT.f32 */
#include <stdio.h>

#include <cnn/cnn.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: resnet_logits CHECKPOINT INPUT.f32 OUTPUT.f32\n");
        return 2;
    }
    static float input[2 * 3 * 64 * 64], logits[2 * 1000];
    FILE *f = fopen(argv[2], "rb");
    if (!f || fread(input, sizeof input, 1, f) != 1) {
        fprintf(stderr, "resnet_logits: cannot read %s\n", argv[2]);
        return 1;
    }
    fclose(f);
    const int64_t dims[4] = {2, 3, 64, 64};
    cnn_net *net = NULL;
    cnn_tensor *x = NULL;
    cnn_status s = cnn_model_resnet(&net, 18, 1000, 3, 64, 64, cnn_cpu());
    if (s == CNN_OK)
        s = cnn_net_setup(net, 2);
    if (s == CNN_OK)
        s = cnn_net_load(net, NULL, argv[1], NULL);
    if (s == CNN_OK)
        s = cnn_tensor_create(&x, cnn_cpu(), CNN_F32, 4, dims);
    if (s == CNN_OK)
        s = cnn_tensor_write(x, input, sizeof input);
    if (s == CNN_OK)
        s = cnn_net_forward(net, x, 0, 0);
    if (s == CNN_OK)
        s = cnn_tensor_read(cnn_net_output(net), logits, sizeof logits);
    if (s != CNN_OK) {
        fprintf(stderr, "resnet_logits: %s\n", cnn_last_error());
        return 1;
    }
    f = fopen(argv[3], "wb");
    if (!f || fwrite(logits, sizeof logits, 1, f) != 1) {
        fprintf(stderr, "resnet_logits: cannot write %s\n", argv[3]);
        return 1;
    }
    fclose(f);
    cnn_tensor_free(x);
    cnn_net_free(net);
    return 0;
}
