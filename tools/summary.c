/* tools/summary.c - `cnn summary MODEL`: every layer's output shape (as the
 * paper draws it, e.g. 55x55x96), parameters, FLOPs and device, then the
 * totals. */
#include <stdio.h>

#include <cnn/cnn.h>

#include "options.h"
#include "tool.h"

int cnn_tool_summary(int argc, char **argv)
{
    static const char command[] = "summary";
    static const char summary[] =
        "Prints a model layer by layer: cnn summary MODEL [options]\n"
        "MODEL: small, alexnet, alexnet-towers, alexnet-one-tower, resnet18, resnet34, "
        "resnet50,\nresnet101, resnet152.";
    int64_t classes = 0;
    const char *device = "cpu";
    option options[] = {
        {"classes", OPTION_INT, &classes,
         "outputs (0: 10 for small, 1000 for the others)", .min = 0,
         .max = 1 << 24},
        {"device", OPTION_STRING, &device, "where the model would run"},
    };
    const int count = (int)(sizeof options / sizeof options[0]);
    if (argc < 2 || argv[1][0] == '-') {
        int rc = options_parse(command, summary, options, count, argc, argv, 1);
        if (rc == 1)
            return 0;
        fprintf(stderr, "cnn summary: name a model\n\n");
        options_usage(stderr, command, summary, options, count);
        return 2;
    }
    const char *model = argv[1];
    int rc = options_parse(command, summary, options, count, argc, argv, 2);
    if (rc)
        return rc == 1 ? 0 : rc;
    cnn_device dev;
    if (cnn_device_parse(device, &dev) != CNN_OK) {
        fprintf(stderr, "cnn summary: %s\n", cnn_last_error());
        return 2;
    }
    if (classes == 0)
        classes = model[0] == 's' ? 10 : 1000;
    cnn_net *net = NULL;
    cnn_status s = cnn_model_by_name(&net, model, classes, dev);
    if (s == CNN_OK)
        s = cnn_net_setup(net, 1);
    if (s == CNN_OK) {
        printf("%s, %lld classes\n", model, (long long)classes);
        s = cnn_net_summary(net, stdout);
    }
    if (s != CNN_OK)
        fprintf(stderr, "cnn summary: %s\n", cnn_last_error());
    cnn_net_free(net);
    return s == CNN_OK ? 0 : (s == CNN_ERR_INVALID_ARGUMENT ? 2 : 1);
}
