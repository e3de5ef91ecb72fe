/* cnn/train.h - training a net: the SGD optimizer over all of a net's
 * parameters, learning-rate schedules, and saving or loading a net (with
 * its optimizer) as a checkpoint (cnn/checkpoint.h, docs/checkpoint.md).
 * Ownership and thread safety as in net.h. */
#ifndef CNN_TRAIN_H
#define CNN_TRAIN_H

#include <stdint.h>

#include "checkpoint.h"
#include "export.h"
#include "net.h"
#include "status.h"

CNN_BEGIN_DECLS

typedef enum cnn_lr_schedule {
    CNN_LR_CONSTANT = 0,
    CNN_LR_STEP,   /* base * gamma ^ floor(step / step_size) */
    CNN_LR_COSINE  /* base * (1 + cos(pi * step / total_steps)) / 2 */
} cnn_lr_schedule;

typedef struct cnn_lr_params {
    float base;               /* the learning rate after warm-up, > 0 */
    cnn_lr_schedule schedule;
    int64_t step_size;        /* CNN_LR_STEP: steps between decays */
    float gamma;              /* CNN_LR_STEP: the decay factor */
    int64_t total_steps;      /* CNN_LR_COSINE: the length of the run */
    int64_t warmup_steps;     /* linear warm-up from base / warmup_steps */
} cnn_lr_params;

/* The learning rate of step `step` (0-based): during warm-up
 * base * (step + 1) / warmup_steps, then the schedule counted from the
 * end of warm-up. */
CNN_API float cnn_lr_at(const cnn_lr_params *p, int64_t step);

typedef struct cnn_sgd cnn_sgd;

/* An SGD optimizer for every parameter of `net` (set up), with one
 * momentum buffer per parameter on the parameter's device, as
 * torch.optim.SGD(momentum, weight_decay, nesterov) with dampening 0. The
 * net is borrowed and must outlive the optimizer. */
CNN_API cnn_status cnn_sgd_create(cnn_sgd **out, cnn_net *net, float momentum,
                                  float weight_decay, int nesterov);
CNN_API void cnn_sgd_free(cnn_sgd *opt);
/* One step with learning rate lr on every parameter, from its gradient. */
CNN_API cnn_status cnn_sgd_apply(cnn_sgd *opt, float lr);

/* Saves the net's parameters and buffers (torchvision names), the
 * optimizer's momentum buffers ("momentum.<name>") when opt is not NULL,
 * and `meta_count` metadata entries (for example model, epoch, step, seed,
 * next batch, engines), atomically. */
CNN_API cnn_status cnn_net_save(cnn_net *net, const cnn_sgd *opt,
                                const char *path,
                                const char *const *meta_keys,
                                const char *const *meta_values,
                                int meta_count);

/* Loads a checkpoint into the net (and the optimizer when opt is not NULL:
 * then its momentum buffers must be in the file). Every tensor is checked
 * (present, dtype, shape) before any is copied, so on failure the net and
 * optimizer are unchanged. When meta is not NULL it receives the open
 * checkpoint, to read its metadata; close it with cnn_checkpoint_close. */
CNN_API cnn_status cnn_net_load(cnn_net *net, cnn_sgd *opt, const char *path,
                                cnn_checkpoint **meta);

CNN_END_DECLS

#endif /* CNN_TRAIN_H */
