/* src/lr_schedule.c - learning-rate schedules with linear warm-up. */
#include <math.h>

#include "checked.h"
#include "core.h"

float cnn_lr_at(const cnn_lr_params *p, int64_t step)
{
    if (!p || step < 0)
        return 0.0f;
    if (step < p->warmup_steps)
        return p->base * (float)(step + 1) / (float)p->warmup_steps;
    int64_t t = step - (p->warmup_steps > 0 ? p->warmup_steps : 0);
    switch (p->schedule) {
    case CNN_LR_STEP:
        if (p->step_size <= 0)
            return p->base;
        return p->base * powf(p->gamma, (float)(t / p->step_size));
    case CNN_LR_COSINE: {
        int64_t span = 0;
        if (!cnn_checked_sub_i64(p->total_steps,
                                 p->warmup_steps > 0 ? p->warmup_steps : 0,
                                 &span) ||
            span <= 0) /* a run no longer than its warm-up */
            return p->base;
        double x = t >= span ? 1.0 : (double)t / (double)span;
        return (float)(p->base * 0.5 * (1.0 + cos(3.14159265358979323846 * x)));
    }
    case CNN_LR_CONSTANT:
    default:
        return p->base;
    }
}
