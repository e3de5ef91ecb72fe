/* src/cpu/workspace.c - one scratch buffer per logical CPU device, grown
 * to the largest request and then reused, so that ops allocate nothing per
 * call once a network has run a step. Calls on one device are serialised
 * by the core, so one buffer per device is enough; an op that needs scratch
 * per thread carves it out of this buffer. */
#include <stdlib.h>

#include "cpu.h"

static struct {
    void *data;
    size_t bytes;
} workspaces[64];

void *cnn_cpu_workspace(int device, size_t bytes)
{
    if (bytes <= workspaces[device].bytes)
        return workspaces[device].data;
    const size_t align = 64;
    size_t rounded = (bytes + align - 1) / align * align;
    void *data = rounded >= bytes ? aligned_alloc(align, rounded) : NULL;
    if (!data) {
        cnn_backend_error(cnn_cpu_host, CNN_ERR_OUT_OF_MEMORY,
                          "cpu: out of host memory for a %zu-byte workspace",
                          bytes);
        return NULL;
    }
    free(workspaces[device].data);
    workspaces[device].data = data;
    workspaces[device].bytes = rounded;
    return data;
}
