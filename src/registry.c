/* src/registry.c - finds the backend of each device type. The CPU backend
 * is linked in; the CUDA backend is the module libcnn-cuda.so, opened once
 * on first use. CNN_HAVE_CUDA (set when the build made the module) is used
 * here and nowhere else: everything else asks at run time. */
#define _GNU_SOURCE /* dladdr */
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define CNN_CUDA_MODULE_NAME "libcnn-cuda.so"

static pthread_once_t cuda_once = PTHREAD_ONCE_INIT;
static const cnn_backend *cuda_backend;
static char cuda_why[1024];
static char cuda_path[PATH_MAX];

/* The folder of the file that holds this code: libcnn.so, or the program
 * when libcnn is linked statically. */
#ifdef CNN_HAVE_CUDA
static const char own_anchor; /* any object of ours, for dladdr */

static void own_folder(char *buf, size_t size)
{
    Dl_info info;
    buf[0] = '\0';
    if (dladdr(&own_anchor, &info) == 0 || info.dli_fname == NULL)
        return;
    snprintf(buf, size, "%s", info.dli_fname);
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(buf, size, ".");
}

/* Tries one candidate; on failure appends dlerror()'s words to `tried`. */
static void *try_open(const char *path, char *tried, size_t tried_size)
{
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle) {
        snprintf(cuda_path, sizeof cuda_path, "%s", path);
        return handle;
    }
    size_t used = strlen(tried);
    const char *err = dlerror();
    snprintf(tried + used, tried_size - used, "%s%s", used ? "; " : "",
             err ? err : path);
    return NULL;
}

static void *open_cuda_module(char *tried, size_t tried_size)
{
    const char *env = getenv("CNN_CUDA_MODULE");
    if (env && env[0])
        return try_open(env, tried, tried_size);

    char folder[PATH_MAX - 64];
    char path[PATH_MAX];
    own_folder(folder, sizeof folder);
    void *handle = NULL;
    if (folder[0]) {
        snprintf(path, sizeof path, "%s/%s", folder, CNN_CUDA_MODULE_NAME);
        handle = try_open(path, tried, tried_size);
        if (!handle) {
            snprintf(path, sizeof path, "%s/../lib/%s", folder,
                     CNN_CUDA_MODULE_NAME);
            handle = try_open(path, tried, tried_size);
        }
    }
    if (!handle)
        handle = try_open(CNN_CUDA_MODULE_NAME, tried, tried_size);
    return handle;
}
#endif /* CNN_HAVE_CUDA */

static void load_cuda(void)
{
#ifndef CNN_HAVE_CUDA
    snprintf(cuda_why, sizeof cuda_why,
             "this build of cnn has no CUDA backend (configured with "
             "CNN_CUDA=OFF or without the CUDA toolkit)");
#else
    char tried[768] = "";
    void *handle = open_cuda_module(tried, sizeof tried);
    if (!handle) {
        snprintf(cuda_why, sizeof cuda_why,
                 "the CUDA module %s could not be loaded: %s",
                 CNN_CUDA_MODULE_NAME, tried);
        return;
    }
    cnn_backend_open_fn open_fn;
    void *sym = dlsym(handle, CNN_CUDA_MODULE_ENTRY);
    memcpy(&open_fn, &sym, sizeof open_fn); /* object -> function pointer */
    if (!open_fn) {
        snprintf(cuda_why, sizeof cuda_why, "%s has no entry point %s",
                 cuda_path, CNN_CUDA_MODULE_ENTRY);
        dlclose(handle);
        return;
    }
    char why[512] = "";
    const cnn_backend *backend = open_fn(&cnn_core_host_api, why, sizeof why);
    if (!backend) {
        snprintf(cuda_why, sizeof cuda_why, "%s",
                 why[0] ? why : "the CUDA module refused to start");
        return; /* keep the module loaded: its strings may be referenced */
    }
    if (backend->abi_version != CNN_BACKEND_ABI_VERSION) {
        snprintf(cuda_why, sizeof cuda_why,
                 "%s speaks backend ABI %u but this libcnn needs %u: "
                 "install matching libcnn and libcnn-cuda",
                 cuda_path, backend->abi_version, CNN_BACKEND_ABI_VERSION);
        return;
    }
    cuda_backend = backend;
    cnn_log(CNN_LOG_INFO, "loaded the CUDA backend from %s", cuda_path);
#endif
}

static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;
static const cnn_backend *cpu_backend;

static void load_cpu(void)
{
    cpu_backend = cnn_cpu_backend_open(&cnn_core_host_api);
}

const cnn_backend *cnn_cpu_backend(void)
{
    pthread_once(&cpu_once, load_cpu);
    return cpu_backend;
}

const cnn_backend *cnn_registry_backend(cnn_device_type type)
{
    switch (type) {
    case CNN_CPU:
        return cnn_cpu_backend();
    case CNN_CUDA:
        pthread_once(&cuda_once, load_cuda);
        return cuda_backend;
    }
    return NULL;
}

const char *cnn_registry_why(cnn_device_type type)
{
    if (type == CNN_CUDA) {
        pthread_once(&cuda_once, load_cuda);
        return cuda_backend ? "" : cuda_why;
    }
    if (type == CNN_CPU)
        return "";
    return "unknown device type";
}

const char *cnn_registry_cuda_module_path(void)
{
    pthread_once(&cuda_once, load_cuda);
    return cuda_backend ? cuda_path : "";
}
