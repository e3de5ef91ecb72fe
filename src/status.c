/* src/status.c - status names, the thread-local last error, the log sink. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"

static const char *const status_names[] = {
    [CNN_OK] = "CNN_OK",
    [CNN_ERR_INVALID_ARGUMENT] = "CNN_ERR_INVALID_ARGUMENT",
    [CNN_ERR_SHAPE] = "CNN_ERR_SHAPE",
    [CNN_ERR_DEVICE] = "CNN_ERR_DEVICE",
    [CNN_ERR_DEVICE_LOST] = "CNN_ERR_DEVICE_LOST",
    [CNN_ERR_OUT_OF_MEMORY] = "CNN_ERR_OUT_OF_MEMORY",
    [CNN_ERR_IO] = "CNN_ERR_IO",
    [CNN_ERR_FORMAT] = "CNN_ERR_FORMAT",
    [CNN_ERR_UNSUPPORTED] = "CNN_ERR_UNSUPPORTED",
    [CNN_ERR_INTERNAL] = "CNN_ERR_INTERNAL",
};
_Static_assert(sizeof status_names / sizeof status_names[0] ==
                   CNN_ERR_INTERNAL + 1,
               "every status needs a name");

const char *cnn_status_string(cnn_status status)
{
    if ((unsigned)status > (unsigned)CNN_ERR_INTERNAL)
        return "unknown status";
    return status_names[status];
}


static _Thread_local char last_error[CNN_ERROR_CAPACITY];

cnn_status cnn_verror(cnn_status status, const char *fmt, va_list ap)
{
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    cnn_log(CNN_LOG_DEBUG, "%s: %s", cnn_status_string(status), last_error);
    return status;
}

cnn_status cnn_error(cnn_status status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    status = cnn_verror(status, fmt, ap);
    va_end(ap);
    return status;
}

cnn_status cnn_error_prefix(const char *caller, cnn_status status)
{
    char detail[CNN_ERROR_CAPACITY];
    snprintf(detail, sizeof detail, "%s", last_error);
    snprintf(last_error, sizeof last_error, "%s: %s", caller, detail);
    return status;
}

const char *cnn_last_error(void) { return last_error; }

void cnn_clear_error(void) { last_error[0] = '\0'; }

const char *cnn_version(void) { return CNN_VERSION_STRING; }

/* The sink is set before other threads use the library (status.h), so
 * plain loads suffice for fn and user; the level is atomic because the
 * environment may raise it lazily from any thread. */
static cnn_log_fn log_fn;
static void *log_user;
static atomic_int log_level = CNN_LOG_WARN;

static int parse_level(const char *text, int fallback)
{
    static const char *const names[] = {"error", "warn", "info", "debug",
                                        "trace"};
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); ++i)
        if (strcasecmp(text, names[i]) == 0)
            return i;
    return fallback;
}

void cnn_log_set(cnn_log_fn fn, cnn_log_level max_level, void *user)
{
    const char *env = getenv("CNN_LOG_LEVEL");
    log_fn = fn;
    log_user = user;
    atomic_store(&log_level, env ? parse_level(env, (int)max_level)
                                 : (int)max_level);
}

bool cnn_log_enabled(cnn_log_level level)
{
    return log_fn != NULL && (int)level <= atomic_load(&log_level);
}

void cnn_vlog(cnn_log_level level, const char *fmt, va_list ap)
{
    if (!cnn_log_enabled(level))
        return;
    char message[1024];
    vsnprintf(message, sizeof message, fmt, ap);
    log_fn(level, message, log_user);
}

void cnn_log(cnn_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cnn_vlog(level, fmt, ap);
    va_end(ap);
}

const cnn_host_api cnn_core_host_api = {
    .abi_version = CNN_BACKEND_ABI_VERSION,
    .verror = cnn_verror,
    .vlog = cnn_vlog,
};
