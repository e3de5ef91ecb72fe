/* src/build_info.c - cnn_build_info (how the library was built, from
 * definitions the build passes in) and cnn_runtime_info (what the process
 * loaded). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

#include "cnn_build_config.h" /* generated: CNN_BUILD_* strings */

const char *cnn_build_info(void)
{
    return "cnn " CNN_VERSION_STRING "\n"
           "compiler: " CNN_BUILD_COMPILER "\n"
           "build type: " CNN_BUILD_TYPE "\n"
           "openmp: "
#ifdef _OPENMP
           "yes"
#else
           "no"
#endif
           "\n"
           "blas: " CNN_BUILD_BLAS "\n"
           "cuda: " CNN_BUILD_CUDA "\n"
           "cudnn: " CNN_BUILD_CUDNN "\n"
           "sanitizers: " CNN_BUILD_SANITIZE "\n";
}

const char *cnn_runtime_info(void)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char text[4096];
    pthread_mutex_lock(&lock);
    text[0] = '\0';
    cnn_cpu_backend()->describe(text, sizeof text);
    const cnn_backend *cuda = cnn_registry_backend(CNN_CUDA);
    size_t used = strlen(text);
    if (cuda) {
        snprintf(text + used, sizeof text - used, "cuda module: %s\n",
                 cnn_registry_cuda_module_path());
        cuda->describe(text, sizeof text);
    } else {
        snprintf(text + used, sizeof text - used, "cuda: not available: %s\n",
                 cnn_registry_why(CNN_CUDA));
    }
    pthread_mutex_unlock(&lock);
    return text;
}
