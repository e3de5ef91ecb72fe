/* src/device.c - the public device calls, per-device settings (engine,
 * math mode), per-device locks and op dispatch. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

typedef struct device_state {
    pthread_mutex_t lock;
    cnn_engine engine;
    cnn_math math;
    int deterministic;
    size_t workspace_limit;
    char name[160];
} device_state;

static device_state devices[CNN_DEVICE_TYPE_COUNT][CNN_MAX_DEVICES];
static pthread_once_t devices_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t names_lock = PTHREAD_MUTEX_INITIALIZER;

static cnn_engine engine_from_env(void)
{
    const char *env = getenv("CNN_ENGINE");
    if (!env)
        return CNN_ENGINE_AUTO;
    for (int e = CNN_ENGINE_AUTO; e <= CNN_ENGINE_REFERENCE; ++e)
        if (strcasecmp(env, cnn_engine_name((cnn_engine)e)) == 0)
            return (cnn_engine)e;
    cnn_log(CNN_LOG_WARN, "CNN_ENGINE=%s is not an engine; using auto", env);
    return CNN_ENGINE_AUTO;
}

/* CNN_WORKSPACE_LIMIT_MB, else 1 GiB. */
static size_t workspace_limit_from_env(void)
{
    const size_t fallback = (size_t)1 << 30;
    const char *env = getenv("CNN_WORKSPACE_LIMIT_MB");
    if (!env)
        return fallback;
    char *end;
    unsigned long long mb = strtoull(env, &end, 10);
    if (*env < '0' || *env > '9' || *end != '\0' || mb == 0 ||
        mb > (SIZE_MAX >> 20)) {
        cnn_log(CNN_LOG_WARN,
                "CNN_WORKSPACE_LIMIT_MB=%s is not a positive number of MiB; "
                "using 1024", env);
        return fallback;
    }
    return (size_t)mb << 20;
}

static void init_devices(void)
{
    cnn_engine engine = engine_from_env();
    const char *det = getenv("CNN_DETERMINISTIC");
    int deterministic = det && *det && strcmp(det, "0") != 0;
    size_t workspace_limit = workspace_limit_from_env();
    const char *math_env = getenv("CNN_MATH");
    cnn_math math = math_env && strcasecmp(math_env, "tf32") == 0
                        ? CNN_MATH_TF32
                        : CNN_MATH_FP32;
    if (math_env && math == CNN_MATH_FP32 && strcasecmp(math_env, "fp32") != 0)
        cnn_log(CNN_LOG_WARN, "CNN_MATH=%s is not fp32 or tf32; using fp32",
                math_env);
    for (int t = 0; t < CNN_DEVICE_TYPE_COUNT; ++t)
        for (int i = 0; i < CNN_MAX_DEVICES; ++i) {
            pthread_mutex_init(&devices[t][i].lock, NULL);
            /* VENDOR from the environment means "where there is one". */
            devices[t][i].engine =
                (t == CNN_CPU && engine == CNN_ENGINE_VENDOR) ? CNN_ENGINE_AUTO
                                                              : engine;
            devices[t][i].math = math;
            devices[t][i].deterministic = deterministic;
            devices[t][i].workspace_limit = workspace_limit;
        }
}

static device_state *state_of(cnn_device dev)
{
    pthread_once(&devices_once, init_devices);
    if ((unsigned)dev.type >= CNN_DEVICE_TYPE_COUNT ||
        dev.index < 0 || dev.index >= CNN_MAX_DEVICES)
        return NULL;
    return &devices[dev.type][dev.index];
}

cnn_device cnn_cpu(void) { return (cnn_device){CNN_CPU, 0}; }
cnn_device cnn_cpu_n(int index) { return (cnn_device){CNN_CPU, index}; }
cnn_device cnn_cuda(int index) { return (cnn_device){CNN_CUDA, index}; }

static const char *type_name(cnn_device_type type)
{
    return type == CNN_CPU ? "cpu" : type == CNN_CUDA ? "cuda" : "?";
}

int cnn_device_format(cnn_device dev, char *buf, int size)
{
    if (!buf || size <= 0)
        return snprintf(NULL, 0, "%s:%d", type_name(dev.type), dev.index);
    return snprintf(buf, (size_t)size, "%s:%d", type_name(dev.type),
                    dev.index);
}

int cnn_device_count(cnn_device_type type)
{
    const cnn_backend *backend = cnn_registry_backend(type);
    if (!backend)
        return 0;
    int n = backend->device_count();
    return n < 0 ? 0 : n > CNN_MAX_DEVICES ? CNN_MAX_DEVICES : n;
}

cnn_status cnn_device_acquire(const char *caller, cnn_device dev,
                              const cnn_backend **out)
{
    char name[32];
    cnn_device_format(dev, name, sizeof name);
    if ((unsigned)dev.type >= CNN_DEVICE_TYPE_COUNT)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: device type %d is not CNN_CPU or CNN_CUDA",
                         caller, (int)dev.type);
    const cnn_backend *backend = cnn_registry_backend(dev.type);
    if (!backend)
        return cnn_error(CNN_ERR_DEVICE, "%s: %s is not usable: %s", caller,
                         name, cnn_registry_why(dev.type));
    int count = cnn_device_count(dev.type);
    if (dev.index < 0 || dev.index >= count) {
        if (count == 0) {
            /* Let the backend say why none is usable (driver, GPU). */
            cnn_status s = backend->device_check(dev.index < 0 ? 0 : dev.index);
            char why[CNN_ERROR_CAPACITY];
            snprintf(why, sizeof why, "%s", cnn_last_error());
            return cnn_error(s == CNN_OK ? CNN_ERR_DEVICE : s,
                             "%s: %s is not usable: %s", caller, name, why);
        }
        return cnn_error(CNN_ERR_DEVICE,
                         "%s: %s does not exist (%d %s device%s present)",
                         caller, name, count, type_name(dev.type),
                         count == 1 ? "" : "s");
    }
    cnn_status s = backend->device_check(dev.index);
    if (s != CNN_OK) {
        char why[CNN_ERROR_CAPACITY];
        snprintf(why, sizeof why, "%s", cnn_last_error());
        return cnn_error(s, "%s: %s is not usable: %s", caller, name, why);
    }
    if (out)
        *out = backend;
    return CNN_OK;
}

cnn_status cnn_device_check(cnn_device dev)
{
    return cnn_device_acquire("cnn_device_check", dev, NULL);
}

const char *cnn_device_name(cnn_device dev)
{
    static _Thread_local char unusable[160];
    device_state *state = state_of(dev);
    const cnn_backend *backend = NULL;
    char id[32];
    cnn_device_format(dev, id, sizeof id);
    if (!state || cnn_device_acquire("cnn_device_name", dev, &backend) != CNN_OK) {
        snprintf(unusable, sizeof unusable, "%s (not available)", id);
        return unusable;
    }
    /* Rewritten on every call: a CPU device's thread count can change. */
    pthread_mutex_lock(&names_lock);
    char detail[128] = "";
    backend->device_name(dev.index, detail, sizeof detail);
    snprintf(state->name, sizeof state->name, "%s (%s)", id, detail);
    pthread_mutex_unlock(&names_lock);
    return state->name;
}

cnn_status cnn_device_synchronize(cnn_device dev)
{
    const cnn_backend *backend;
    cnn_status s = cnn_device_acquire("cnn_device_synchronize", dev, &backend);
    if (s != CNN_OK)
        return s;
    cnn_device_lock(dev);
    s = backend->synchronize(dev.index);
    cnn_device_unlock(dev);
    return s == CNN_OK ? s : cnn_error_prefix("cnn_device_synchronize", s);
}

cnn_status cnn_device_parse(const char *text, cnn_device *out)
{
    if (!text || !out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_device_parse: %s is NULL", text ? "out" : "text");
    if (strcmp(text, "auto") == 0) {
        const cnn_backend *cuda = cnn_registry_backend(CNN_CUDA);
        *out = (cuda && !cuda->emulated && cnn_device_count(CNN_CUDA) > 0)
                   ? cnn_cuda(0)
                   : cnn_cpu();
        return CNN_OK;
    }
    for (int t = 0; t < CNN_DEVICE_TYPE_COUNT; ++t) {
        const char *name = type_name((cnn_device_type)t);
        size_t len = strlen(name);
        if (strncmp(text, name, len) != 0)
            continue;
        const char *rest = text + len;
        if (*rest == '\0') {
            *out = (cnn_device){(cnn_device_type)t, 0};
            return CNN_OK;
        }
        if (*rest == ':' && rest[1] >= '0' && rest[1] <= '9') {
            char *end;
            long index = strtol(rest + 1, &end, 10);
            if (*end == '\0' && index < CNN_MAX_DEVICES) {
                *out = (cnn_device){(cnn_device_type)t, (int)index};
                return CNN_OK;
            }
        }
    }
    return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                     "cnn_device_parse: '%s' is not a device (expected cpu, "
                     "cpu:N, cuda, cuda:N or auto)", text);
}

const char *cnn_engine_name(cnn_engine engine)
{
    switch (engine) {
    case CNN_ENGINE_AUTO: return "auto";
    case CNN_ENGINE_NATIVE: return "native";
    case CNN_ENGINE_VENDOR: return "vendor";
    case CNN_ENGINE_REFERENCE: return "reference";
    }
    return "unknown";
}

cnn_status cnn_set_engine(cnn_device dev, cnn_engine engine)
{
    if ((unsigned)engine > (unsigned)CNN_ENGINE_REFERENCE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_set_engine: %d is not a cnn_engine", (int)engine);
    cnn_status s = cnn_device_acquire("cnn_set_engine", dev, NULL);
    if (s != CNN_OK)
        return s;
    if (dev.type == CNN_CPU && engine == CNN_ENGINE_VENDOR)
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "cnn_set_engine: the CPU has no vendor engine "
                         "(use native, reference or auto)");
    state_of(dev)->engine = engine;
    return CNN_OK;
}

cnn_engine cnn_get_engine(cnn_device dev)
{
    device_state *state = state_of(dev);
    return state ? state->engine : CNN_ENGINE_AUTO;
}

cnn_status cnn_set_threads(cnn_device dev, int threads)
{
    cnn_status s = cnn_device_acquire("cnn_set_threads", dev, NULL);
    if (s != CNN_OK)
        return s;
    if (dev.type != CNN_CPU)
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "cnn_set_threads: only CPU devices take a thread "
                         "count");
    if (threads < 1 || threads > 1024)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_set_threads: threads is %d but must be 1 to "
                         "1024", threads);
    cnn_device_lock(dev);
    cnn_cpu_set_threads(dev.index, threads);
    cnn_device_unlock(dev);
    return CNN_OK;
}

cnn_status cnn_set_math(cnn_device dev, cnn_math math)
{
    if ((unsigned)math > (unsigned)CNN_MATH_TF32)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_set_math: %d is not a cnn_math", (int)math);
    cnn_status s = cnn_device_acquire("cnn_set_math", dev, NULL);
    if (s != CNN_OK)
        return s;
    state_of(dev)->math = math;
    return CNN_OK;
}

cnn_math cnn_get_math(cnn_device dev)
{
    device_state *state = state_of(dev);
    return state ? state->math : CNN_MATH_FP32;
}

cnn_status cnn_set_deterministic(cnn_device dev, int on)
{
    cnn_status s = cnn_device_acquire("cnn_set_deterministic", dev, NULL);
    if (s != CNN_OK)
        return s;
    state_of(dev)->deterministic = on != 0;
    return CNN_OK;
}

int cnn_get_deterministic(cnn_device dev)
{
    device_state *state = state_of(dev);
    return state ? state->deterministic : 0;
}

cnn_status cnn_set_workspace_limit(cnn_device dev, size_t bytes)
{
    if (bytes == 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_set_workspace_limit: bytes is 0");
    cnn_status s = cnn_device_acquire("cnn_set_workspace_limit", dev, NULL);
    if (s != CNN_OK)
        return s;
    state_of(dev)->workspace_limit = bytes;
    return CNN_OK;
}

size_t cnn_get_workspace_limit(cnn_device dev)
{
    device_state *state = state_of(dev);
    return state ? state->workspace_limit : 0;
}

void cnn_device_lock(cnn_device dev)
{
    pthread_mutex_lock(&state_of(dev)->lock);
}

void cnn_device_unlock(cnn_device dev)
{
    pthread_mutex_unlock(&state_of(dev)->lock);
}

static _Thread_local int engine_override = -1;

void cnn_engine_override(int engine) { engine_override = engine; }

cnn_status cnn_dispatch(const char *caller, cnn_device dev, cnn_op_args *args)
{
    const cnn_backend *backend;
    cnn_status s = cnn_device_acquire(caller, dev, &backend);
    if (s != CNN_OK)
        return s;
    device_state *state = state_of(dev);
    args->device = dev.index;
    args->engine = engine_override >= 0 ? (cnn_engine)engine_override
                                        : state->engine;
    args->math = state->math;
    args->deterministic = state->deterministic != 0;
    args->workspace_limit = state->workspace_limit;
    cnn_op_fn fn = backend->ops[args->op];
    if (!fn || (backend->supports && !backend->supports(args)))
        return cnn_error(CNN_ERR_UNSUPPORTED,
                         "%s: the %s backend has no %s engine for op %s",
                         caller, backend->name, cnn_engine_name(args->engine),
                         cnn_op_name(args->op));
    if (cnn_log_enabled(CNN_LOG_TRACE))
        cnn_log(CNN_LOG_TRACE, "%s on %s:%d (%s)", cnn_op_name(args->op),
                backend->name, dev.index, cnn_engine_name(args->engine));
    cnn_device_lock(dev);
    s = fn(args);
    cnn_device_unlock(dev);
    return s == CNN_OK ? s : cnn_error_prefix(caller, s);
}
