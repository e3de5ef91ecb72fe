/* src/loader.c - mini-batches from a data set: the order of each epoch is a
 * pure function of (seed, epoch), so a resumed run sees the same batches as
 * one that never stopped; a background thread prepares the next batch on
 * the host while the caller trains on the current one. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "checked.h"
#include "philox.h"

struct cnn_loader {
    const cnn_dataset *ds;
    cnn_loader_params params;
    int64_t sample_floats; /* floats per image */
    int64_t batches;       /* per epoch */
    int64_t *order;        /* this epoch's permutation */

    /* Two host buffers: the worker fills one while the caller reads the
     * other. */
    float *images[2];
    int32_t *labels[2];
    int64_t counts[2];

    pthread_t worker;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int64_t next_batch;   /* the batch cnn_loader_next returns next */
    int64_t wanted_batch; /* the batch the worker is asked for, or -1 */
    int64_t ready_batch;  /* the batch sitting in a buffer, or -1 */
    bool stop;
};

/* The high 64 bits of a * b, from 32-bit halves (portable C11). */
static uint64_t mul_high(uint64_t a, uint64_t b)
{
    uint64_t a_lo = (uint32_t)a, a_hi = a >> 32;
    uint64_t b_lo = (uint32_t)b, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (uint32_t)hi_lo + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

cnn_status cnn_shuffle_order(int64_t *order, int64_t n, uint64_t seed,
                             int64_t epoch)
{
    if (!order || n < 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "cnn_shuffle_order: %s", order ? "n < 0" :
                         "order is NULL");
    for (int64_t i = 0; i < n; ++i)
        order[i] = i;
    /* Fisher-Yates from the back: swap i with j uniform in [0, i], j drawn
     * from the 64 bits of Philox block (i, SHUFFLE, epoch) by a
     * multiply-high, whose bias (< i / 2^64) is far below anything
     * measurable. */
    for (int64_t i = n - 1; i > 0; --i) {
        cnn_philox_u32x4 c = {{(uint32_t)i, (uint32_t)((uint64_t)i >> 32),
                               CNN_PHILOX_STREAM_SHUFFLE, (uint32_t)epoch}};
        cnn_philox_u32x4 r = cnn_philox4x32_10(c, (uint32_t)seed,
                                               (uint32_t)(seed >> 32));
        uint64_t bits = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
        int64_t j = (int64_t)mul_high(bits, (uint64_t)(i + 1));
        int64_t keep = order[i];
        order[i] = order[j];
        order[j] = keep;
    }
    return CNN_OK;
}

/* Fills buffer `slot` with batch `batch` of the current order. */
static void fill_batch(cnn_loader *l, int slot, int64_t batch)
{
    int64_t b = l->params.batch_size;
    int64_t first = batch * b, n = cnn_dataset_size(l->ds) - first;
    if (n > b)
        n = b;
    for (int64_t k = 0; k < n; ++k)
        cnn_dataset_get(l->ds, l->order[first + k],
                        l->images[slot] + k * l->sample_floats,
                        &l->labels[slot][k]);
    /* A partial last batch: the rest of the rows are zeros (label 0). */
    memset(l->images[slot] + n * l->sample_floats, 0,
           (size_t)((b - n) * l->sample_floats) * sizeof(float));
    memset(l->labels[slot] + n, 0, (size_t)(b - n) * sizeof(int32_t));
    l->counts[slot] = n;
}

static void *worker_main(void *arg)
{
    cnn_loader *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->stop && l->wanted_batch < 0)
            pthread_cond_wait(&l->changed, &l->lock);
        if (l->stop)
            break;
        int64_t batch = l->wanted_batch;
        pthread_mutex_unlock(&l->lock);
        fill_batch(l, (int)(batch & 1), batch);
        pthread_mutex_lock(&l->lock);
        if (l->wanted_batch == batch) { /* not re-aimed meanwhile */
            l->ready_batch = batch;
            l->wanted_batch = -1;
        }
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* Waits until the worker is idle. Called with the lock held. */
static void wait_idle(cnn_loader *l)
{
    while (l->wanted_batch >= 0)
        pthread_cond_wait(&l->changed, &l->lock);
}

cnn_status cnn_loader_create(cnn_loader **out, const cnn_dataset *ds,
                             const cnn_loader_params *p)
{
    static const char caller[] = "cnn_loader_create";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!ds || !p)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         ds ? "p" : "ds");
    if (p->batch_size < 1)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: batch_size is %lld but must be at least 1",
                         caller, (long long)p->batch_size);
    int64_t n = cnn_dataset_size(ds);
    if (p->drop_last && n < p->batch_size)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: the data set has %lld samples, fewer than one "
                         "batch of %lld, and drop_last is set", caller,
                         (long long)n, (long long)p->batch_size);
    int64_t dims[3], sample_floats = 0, batch_floats = 0, batches = 0;
    size_t image_bytes = 0, label_bytes = 0, order_bytes = 0;
    cnn_dataset_image_shape(ds, dims);
    if (!cnn_checked_product_i64(dims, 3, &sample_floats) ||
        !cnn_checked_mul_i64(p->batch_size, sample_floats, &batch_floats) ||
        !cnn_checked_bytes(batch_floats, sizeof(float), &image_bytes) ||
        !cnn_checked_bytes(p->batch_size, sizeof(int32_t), &label_bytes) ||
        !cnn_checked_bytes(n > 0 ? n : 1, sizeof(int64_t), &order_bytes) ||
        !cnn_checked_ceil_div_i64(n, p->batch_size, &batches))
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: batch_size %lld of %lldx%lldx%lld images is too "
                         "large (its size overflows)", caller,
                         (long long)p->batch_size, (long long)dims[0],
                         (long long)dims[1], (long long)dims[2]);
    cnn_loader *l = calloc(1, sizeof *l);
    if (!l)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    l->ds = ds;
    l->params = *p;
    l->sample_floats = sample_floats;
    l->batches = p->drop_last ? n / p->batch_size : batches;
    l->order = malloc(order_bytes);
    bool ok = l->order != NULL;
    for (int s = 0; s < 2 && ok; ++s) {
        l->images[s] = malloc(image_bytes);
        l->labels[s] = malloc(label_bytes);
        ok = l->images[s] && l->labels[s];
    }
    l->wanted_batch = -1;
    l->ready_batch = -1;
    l->next_batch = l->batches; /* nothing until an epoch starts */
    pthread_mutex_init(&l->lock, NULL);
    pthread_cond_init(&l->changed, NULL);
    if (!ok || pthread_create(&l->worker, NULL, worker_main, l) != 0) {
        pthread_mutex_destroy(&l->lock);
        pthread_cond_destroy(&l->changed);
        for (int s = 0; s < 2; ++s) {
            free(l->images[s]);
            free(l->labels[s]);
        }
        free(l->order);
        free(l);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory or thread for the loader", caller);
    }
    *out = l;
    return CNN_OK;
}

void cnn_loader_free(cnn_loader *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_broadcast(&l->changed);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->worker, NULL);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->changed);
    for (int s = 0; s < 2; ++s) {
        free(l->images[s]);
        free(l->labels[s]);
    }
    free(l->order);
    free(l);
}

int64_t cnn_loader_batches(const cnn_loader *l) { return l ? l->batches : 0; }

cnn_status cnn_loader_start_epoch(cnn_loader *l, int64_t epoch,
                                  int64_t first_batch)
{
    static const char caller[] = "cnn_loader_start_epoch";
    if (!l)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: loader is NULL", caller);
    if (epoch < 0 || first_batch < 0 || first_batch > l->batches)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: epoch %lld, batch %lld is out of range (%lld "
                         "batches per epoch)", caller, (long long)epoch,
                         (long long)first_batch, (long long)l->batches);
    pthread_mutex_lock(&l->lock);
    wait_idle(l);
    int64_t n = cnn_dataset_size(l->ds);
    if (l->params.shuffle)
        cnn_shuffle_order(l->order, n, l->params.seed, epoch);
    else
        for (int64_t i = 0; i < n; ++i)
            l->order[i] = i;
    l->next_batch = first_batch;
    l->ready_batch = -1;
    if (first_batch < l->batches) {
        l->wanted_batch = first_batch;
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    return CNN_OK;
}

cnn_status cnn_loader_next(cnn_loader *l, cnn_tensor *images,
                           cnn_tensor *labels, int64_t *count)
{
    static const char caller[] = "cnn_loader_next";
    if (!l || !images || !labels || !count)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: %s is NULL", caller,
                         !l ? "loader" : !images ? "images"
                                       : !labels ? "labels" : "count");
    int64_t b = l->params.batch_size;
    int64_t dims[3];
    cnn_dataset_image_shape(l->ds, dims);
    const int64_t want_images[4] = {b, dims[0], dims[1], dims[2]};
    cnn_status s;
    if ((s = cnn_check_tensor(caller, "images", images, CNN_F32, 4)) != CNN_OK ||
        (s = cnn_check_dims(caller, "images", images, 4, want_images)) != CNN_OK ||
        (s = cnn_check_tensor(caller, "labels", labels, CNN_I32, 1)) != CNN_OK ||
        (s = cnn_check_dims(caller, "labels", labels, 1, &b)) != CNN_OK)
        return s;
    const cnn_operand ops[] = {{"images", images, true, NULL},
                               {"labels", labels, true, NULL}};
    if ((s = cnn_check_operands(caller, ops, 2)) != CNN_OK)
        return s;
    pthread_mutex_lock(&l->lock);
    if (l->next_batch >= l->batches) {
        pthread_mutex_unlock(&l->lock);
        *count = 0;
        return CNN_OK;
    }
    int64_t batch = l->next_batch;
    while (l->ready_batch != batch)
        pthread_cond_wait(&l->changed, &l->lock);
    int slot = (int)(batch & 1);
    /* Ask for the following batch into the other buffer, then upload this
     * one while the worker runs. */
    l->next_batch = batch + 1;
    if (batch + 1 < l->batches) {
        l->wanted_batch = batch + 1;
        pthread_cond_broadcast(&l->changed);
    }
    pthread_mutex_unlock(&l->lock);
    s = cnn_tensor_write(images, l->images[slot],
                         (size_t)(b * l->sample_floats) * sizeof(float));
    if (s == CNN_OK)
        s = cnn_tensor_write(labels, l->labels[slot],
                             (size_t)b * sizeof(int32_t));
    *count = s == CNN_OK ? l->counts[slot] : 0;
    return s == CNN_OK ? s : cnn_error_prefix(caller, s);
}
