/* src/device_memory.c - the public memory statistics of a device: what the
 * backend's allocator holds (in use, cached, peak) and what the device
 * says it has free. */
#include <string.h>

#include "core.h"

cnn_status cnn_device_memory_stats(cnn_device dev, cnn_memory_stats *stats)
{
    if (!stats)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_device_memory_stats: stats is NULL");
    memset(stats, 0, sizeof *stats);
    const cnn_backend *backend;
    cnn_status s = cnn_device_acquire("cnn_device_memory_stats", dev, &backend);
    if (s != CNN_OK)
        return s;
    if (!backend->memory_stats)
        return CNN_OK; /* a backend that keeps no statistics: all zero */
    s = backend->memory_stats(dev.index, stats);
    return s == CNN_OK ? s : cnn_error_prefix("cnn_device_memory_stats", s);
}

cnn_status cnn_device_memory_reset_peak(cnn_device dev)
{
    const cnn_backend *backend;
    cnn_status s =
        cnn_device_acquire("cnn_device_memory_reset_peak", dev, &backend);
    if (s == CNN_OK && backend->memory_reset_peak)
        backend->memory_reset_peak(dev.index);
    return s;
}

cnn_status cnn_device_memory_trim(cnn_device dev)
{
    const cnn_backend *backend;
    cnn_status s = cnn_device_acquire("cnn_device_memory_trim", dev, &backend);
    if (s != CNN_OK)
        return s;
    if (backend->memory_trim) {
        cnn_device_lock(dev);
        backend->memory_trim(dev.index);
        cnn_device_unlock(dev);
    }
    return CNN_OK;
}
