/* tools/cnn.c - the cnn command-line program. Uses only the public API.
 *
 *   cnn info        version, build options, libraries and devices
 *   cnn train       train a model (tools/train.c); cnn eval evaluates one
 *   cnn summary     a model layer by layer (tools/summary.c)
 *   cnn bench       benchmarks (bench/, DESIGN.md Benchmarks)
 *   cnn help        usage
 */
#include <stdio.h>
#include <string.h>

#include <cnn/cnn.h>

#include "tool.h"

#include "bench.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: cnn <command> [options]\n"
            "\n"
            "commands:\n"
            "  info     print the version, how cnn was built, the libraries it\n"
            "           loaded and the devices it can use (and why not)\n"
            "  bench    benchmarks of ops and of whole models\n"
            "           (cnn bench ops --help, cnn bench models --help)\n"
            "  train    train a model (cnn train --help)\n"
            "  eval     evaluate a checkpoint on the test set\n"
            "  summary  print a model layer by layer (cnn summary alexnet)\n"
            "  help     print this text\n");
}

static void print_device(cnn_device dev)
{
    if (cnn_device_check(dev) == CNN_OK)
        printf("  %s  engine %s\n", cnn_device_name(dev),
               cnn_engine_name(cnn_get_engine(dev)));
    else
        printf("  %s\n", cnn_last_error());
}

static int cmd_info(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "cnn info: takes no arguments\n");
        return 2;
    }
    printf("== build ==\n%s", cnn_build_info());
    printf("\n== runtime ==\n%s", cnn_runtime_info());
    printf("\n== devices ==\n");
    int cpus = cnn_device_count(CNN_CPU);
    for (int i = 0; i < cpus; ++i)
        print_device(cnn_cpu_n(i));
    int gpus = cnn_device_count(CNN_CUDA);
    for (int i = 0; i < gpus; ++i)
        print_device(cnn_cuda(i));
    if (gpus == 0) {
        cnn_device_check(cnn_cuda(0));
        printf("  no usable GPU: %s\n", cnn_last_error());
    }
    cnn_device best;
    cnn_device_parse("auto", &best);
    char name[32];
    cnn_device_format(best, name, sizeof name);
    printf("\nbest device: %s\n", name);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "info") == 0)
        return cmd_info(argc - 1, argv + 1);
    if (strcmp(command, "bench") == 0)
        return cnn_bench_main(argc - 1, argv + 1);
    if (strcmp(command, "train") == 0)
        return cnn_tool_train(argc - 1, argv + 1);
    if (strcmp(command, "eval") == 0)
        return cnn_tool_eval(argc - 1, argv + 1);
    if (strcmp(command, "summary") == 0)
        return cnn_tool_summary(argc - 1, argv + 1);
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "--version") == 0) {
        printf("cnn %s\n", cnn_version());
        return 0;
    }
    fprintf(stderr, "cnn: unknown command '%s'\n\n", command);
    usage(stderr);
    return 2;
}
