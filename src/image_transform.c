/* src/image_transform.c - torchvision's transforms on 8-bit RGB images,
 * resampled as PIL's Image.resize(BILINEAR) does (docs/data.md). */
#include "image_transform.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "philox.h"

/* Largest output side and resize accepted: far beyond any real use, small
 * enough that no size computation can overflow. */
#define MAX_SIDE 65536

cnn_image_params cnn_image_params_default(void)
{
    cnn_image_params p;
    memset(&p, 0, sizeof p);
    p.transform = CNN_TRANSFORM_RESNET;
    p.train = 1;
    p.size = 0;
    p.resize = 0;
    p.padding = -1;
    p.mean[0] = 0.485f;
    p.mean[1] = 0.456f;
    p.mean[2] = 0.406f;
    p.std[0] = 0.229f;
    p.std[1] = 0.224f;
    p.std[2] = 0.225f;
    p.max_pixels = 89478485;
    p.dct_scaling = 1;
    return p;
}

cnn_status cnn_image_params_resolve(const char *caller,
                                    const cnn_image_params *in, int cifar,
                                    cnn_image_params *out)
{
    cnn_image_params p = in ? *in : cnn_image_params_default();
    if ((int)p.transform < CNN_TRANSFORM_NONE ||
        (int)p.transform > CNN_TRANSFORM_CIFAR)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->transform %d is not a cnn_transform", caller,
                         (int)p.transform);
    if (p.size < 0 || p.size > MAX_SIDE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->size %lld is outside [0, %d]", caller,
                         (long long)p.size, MAX_SIDE);
    if (p.resize < 0 || p.resize > MAX_SIDE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->resize %lld is outside [0, %d]", caller,
                         (long long)p.resize, MAX_SIDE);
    if (p.padding < -1 || p.padding > MAX_SIDE)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->padding %lld is outside [-1, %d]", caller,
                         (long long)p.padding, MAX_SIDE);
    if (p.max_pixels <= 0)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->max_pixels %lld is not positive", caller,
                         (long long)p.max_pixels);
    for (int c = 0; c < 3; ++c) {
        if (!isfinite(p.mean[c]))
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: p->mean[%d] is not finite", caller, c);
        if (!(p.std[c] > 0.0f) || !isfinite(p.std[c]))
            return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                             "%s: p->std[%d] is %g but must be positive and "
                             "finite", caller, c, (double)p.std[c]);
    }
    p.train = p.train != 0;
    p.dct_scaling = p.dct_scaling != 0;
    if (p.size == 0) {
        switch (p.transform) {
        case CNN_TRANSFORM_ALEXNET: p.size = 227; break;
        case CNN_TRANSFORM_CIFAR: p.size = 32; break;
        default: p.size = cifar ? 32 : 224; break;
        }
    }
    if (p.resize == 0)
        p.resize = p.transform == CNN_TRANSFORM_NONE ? p.size : 256;
    if (p.padding < 0)
        p.padding = 4;
    if ((p.transform == CNN_TRANSFORM_ALEXNET ||
         p.transform == CNN_TRANSFORM_RESNET) && p.resize < p.size)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT,
                         "%s: p->resize %lld is smaller than p->size %lld "
                         "(the crop would not fit)", caller,
                         (long long)p.resize, (long long)p.size);
    *out = p;
    return CNN_OK;
}

int64_t cnn_image_half_round_even(int64_t x)
{
    int64_t k = x / 2; /* x >= 0 */
    if (x % 2 == 0)
        return k;
    return k % 2 == 0 ? k : k + 1;
}

/* torchvision's CenterCrop offset along one side (negative: zeros). */
static int64_t center_offset(int64_t side, int64_t crop)
{
    if (crop > side)
        return -((crop - side) / 2);
    return cnn_image_half_round_even(side - crop);
}

/* Resize(resize): the shorter side becomes `resize`, the longer
 * int(resize * long / short) as Python computes it. */
static void resized_size(int64_t w, int64_t h, int64_t resize, int64_t *rw,
                         int64_t *rh)
{
    int64_t shorter = w <= h ? w : h, longer = w <= h ? h : w;
    int64_t new_long = (int64_t)((double)(resize * longer) / (double)shorter);
    *rw = w <= h ? resize : new_long;
    *rh = w <= h ? new_long : resize;
}

static double unit(uint32_t word) { return (double)(word >> 8) * 0x1p-24; }

/* torch.randint(0, n): the high 32 bits of word * n. */
static int64_t below(uint32_t word, int64_t n)
{
    return (int64_t)(((uint64_t)word * (uint64_t)n) >> 32);
}

/* RandomResizedCrop.get_params with scale (0.08, 1), ratio (3/4, 4/3):
 * try t takes its four numbers from draw t. */
static void random_resized_crop(int64_t width, int64_t height, uint64_t seed,
                                int64_t epoch, int64_t index,
                                cnn_image_plan *plan)
{
    const double area = (double)width * (double)height;
    const double log_lo = log(3.0 / 4.0), log_hi = log(4.0 / 3.0);
    for (uint32_t t = 0; t < 10; ++t) {
        cnn_philox_u32x4 r = cnn_philox_augment_block(seed, (uint64_t)epoch,
                                                      (uint64_t)index, t);
        double target = area * (0.08 + (1.0 - 0.08) * unit(r.v[0]));
        double aspect = exp(log_lo + (log_hi - log_lo) * unit(r.v[1]));
        double wd = rint(sqrt(target * aspect)), hd = rint(sqrt(target / aspect));
        if (wd > 0 && wd <= (double)width && hd > 0 && hd <= (double)height) {
            int64_t w = (int64_t)wd, h = (int64_t)hd;
            plan->crop_y = below(r.v[2], height - h + 1);
            plan->crop_x = below(r.v[3], width - w + 1);
            plan->crop_w = w;
            plan->crop_h = h;
            return;
        }
    }
    /* Fallback: the centre crop of the ratio clamped into [3/4, 4/3]. */
    double in_ratio = (double)width / (double)height;
    int64_t w = width, h = height;
    if (in_ratio < 3.0 / 4.0)
        h = (int64_t)rint((double)w / (3.0 / 4.0));
    else if (in_ratio > 4.0 / 3.0)
        w = (int64_t)rint((double)h * (4.0 / 3.0));
    plan->crop_w = w;
    plan->crop_h = h;
    plan->crop_y = (height - h) / 2;
    plan->crop_x = (width - w) / 2;
}

void cnn_image_plan_make(const cnn_image_params *p, int64_t width,
                         int64_t height, uint64_t seed, int64_t epoch,
                         int64_t index, cnn_image_plan *plan)
{
    *plan = (cnn_image_plan){0, 0, width, height, width, height,
                             0, 0, p->size, p->size, 0};
    /* The flip's number: the first word of draw 10. */
    cnn_philox_u32x4 flip_draw = cnn_philox_augment_block(
        seed, (uint64_t)epoch, (uint64_t)index, 10);
    int flip = unit(flip_draw.v[0]) < 0.5;
    switch (p->transform) {
    case CNN_TRANSFORM_RESNET:
        if (p->train) {
            random_resized_crop(width, height, seed, epoch, index, plan);
            plan->resize_w = plan->resize_h = p->size;
            plan->flip = flip;
            return;
        }
        break;
    case CNN_TRANSFORM_ALEXNET:
        if (p->train) {
            resized_size(width, height, p->resize, &plan->resize_w,
                         &plan->resize_h);
            cnn_philox_u32x4 r = cnn_philox_augment_block(
                seed, (uint64_t)epoch, (uint64_t)index, 0);
            plan->win_y = below(r.v[0], plan->resize_h - p->size + 1);
            plan->win_x = below(r.v[1], plan->resize_w - p->size + 1);
            plan->flip = flip;
            return;
        }
        break;
    case CNN_TRANSFORM_CIFAR: {
        /* No resize; RandomCrop(size, padding) or CenterCrop(size). */
        int64_t pw = width + 2 * p->padding, ph = height + 2 * p->padding;
        if (p->train && pw >= p->size && ph >= p->size) {
            cnn_philox_u32x4 r = cnn_philox_augment_block(
                seed, (uint64_t)epoch, (uint64_t)index, 0);
            plan->win_y = below(r.v[0], ph - p->size + 1) - p->padding;
            plan->win_x = below(r.v[1], pw - p->size + 1) - p->padding;
        } else {
            plan->win_x = center_offset(width, p->size);
            plan->win_y = center_offset(height, p->size);
        }
        plan->flip = p->train && flip;
        return;
    }
    default:
        break;
    }
    /* Resize(resize) and CenterCrop(size): evaluation and NONE. */
    resized_size(width, height, p->resize, &plan->resize_w, &plan->resize_h);
    plan->win_x = center_offset(plan->resize_w, p->size);
    plan->win_y = center_offset(plan->resize_h, p->size);
}

int cnn_image_plan_denom(const cnn_image_plan *plan)
{
    for (int d = 8; d > 1; d /= 2)
        if (plan->crop_w >= d * plan->resize_w &&
            plan->crop_h >= d * plan->resize_h)
            return d;
    return 1;
}

/* ------------------------------------------------------------ resampling */

/* PIL's fixed point for 8-bit images (Resample.c, PRECISION_BITS). */
#define PRECISION_BITS (32 - 8 - 2)

static uint8_t clip8(int32_t v)
{
    if (v >= (1 << PRECISION_BITS << 8))
        return 255;
    if (v <= 0)
        return 0;
    return (uint8_t)(v >> PRECISION_BITS);
}

static double bilinear(double x)
{
    if (x < 0.0)
        x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* The filter of outputs first .. first + count - 1 when in_size pixels
 * become out_size, as PIL's precompute_coeffs and normalize_coeffs_8bpc
 * compute them: output i reads bounds[2 i] + 0 .. bounds[2 i + 1] - 1 with
 * weights kk[i * ksize ..]. */
typedef struct filter {
    int64_t ksize;
    int64_t *bounds; /* min, count per output */
    int32_t *kk;
} filter;

static int filter_make(filter *f, int64_t in_size, int64_t out_size,
                       int64_t first, int64_t count)
{
    double scale = (double)in_size / (double)out_size;
    double filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale;
    f->ksize = (int64_t)ceil(support) * 2 + 1;
    f->bounds = malloc(sizeof *f->bounds * 2 * (size_t)count);
    f->kk = malloc(sizeof *f->kk * (size_t)(f->ksize * count));
    double *k = malloc(sizeof *k * (size_t)f->ksize);
    if (!f->bounds || !f->kk || !k) {
        free(k);
        return 0;
    }
    for (int64_t i = 0; i < count; ++i) {
        int64_t xx = first + i;
        double center = (double)(xx + 0.5) * scale;
        double ww = 0.0, ss = 1.0 / filterscale;
        int64_t xmin = (int64_t)(center - support + 0.5);
        if (xmin < 0)
            xmin = 0;
        int64_t xmax = (int64_t)(center + support + 0.5);
        if (xmax > in_size)
            xmax = in_size;
        xmax -= xmin;
        for (int64_t x = 0; x < xmax; ++x) {
            double w = bilinear(((double)(x + xmin) - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        int32_t *kk = f->kk + i * f->ksize;
        for (int64_t x = 0; x < f->ksize; ++x) {
            double v = 0.0;
            if (x < xmax)
                v = ww != 0.0 ? k[x] / ww : k[x];
            kk[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PRECISION_BITS))
                          : (int32_t)(0.5 + v * (1 << PRECISION_BITS));
        }
        f->bounds[2 * i] = xmin;
        f->bounds[2 * i + 1] = xmax;
    }
    free(k);
    return 1;
}

static void filter_free(filter *f)
{
    free(f->bounds);
    free(f->kk);
}

/* The crop in the coordinates of the image decoded at 1/denom (full_w x
 * full_h): {x0, y0, x1, y1}, edges rounded outward. */
static void crop_decoded(const cnn_image_plan *plan, int denom,
                         int64_t full_w, int64_t full_h, int64_t c[4])
{
    int64_t x1 = (plan->crop_x + plan->crop_w + denom - 1) / denom;
    int64_t y1 = (plan->crop_y + plan->crop_h + denom - 1) / denom;
    c[0] = plan->crop_x / denom;
    c[1] = plan->crop_y / denom;
    c[2] = x1 < full_w ? x1 : full_w;
    c[3] = y1 < full_h ? y1 : full_h;
}

/* The inputs [*lo, *hi) that outputs first .. first + count - 1 read when
 * in_size pixels become out_size: filter_make's bounds of the first and
 * the last (they only grow with the output), or the outputs themselves
 * when nothing is resampled. */
static void filter_span(int64_t in_size, int64_t out_size, int64_t first,
                        int64_t count, int64_t *lo, int64_t *hi)
{
    if (in_size == out_size) {
        *lo = first;
        *hi = first + count;
        return;
    }
    double scale = (double)in_size / (double)out_size;
    double support = scale < 1.0 ? 1.0 : scale;
    int64_t xmin = (int64_t)((double)(first + 0.5) * scale - support + 0.5);
    int64_t xmax = (int64_t)((double)(first + count - 1 + 0.5) * scale +
                             support + 0.5);
    *lo = xmin < 0 ? 0 : xmin;
    *hi = xmax > in_size ? in_size : xmax;
}

/* What a plan reads, in the crop's coordinates: the valid part of the
 * window in the resized image (v: x0, y0, x1, y1) and the crop's pixels
 * the resampling reads for it (need: x0, y0, x1, y1; empty when the window
 * lies in the padding). */
static void plan_reads(const cnn_image_plan *plan, int64_t sw, int64_t sh,
                       int64_t v[4], int64_t need[4])
{
    const int64_t rw = plan->resize_w, rh = plan->resize_h;
    v[0] = plan->win_x < 0 ? 0 : plan->win_x;
    v[1] = plan->win_y < 0 ? 0 : plan->win_y;
    v[2] = plan->win_x + plan->out_w < rw ? plan->win_x + plan->out_w : rw;
    v[3] = plan->win_y + plan->out_h < rh ? plan->win_y + plan->out_h : rh;
    if (v[2] <= v[0] || v[3] <= v[1]) {
        need[0] = need[1] = need[2] = need[3] = 0;
        return;
    }
    filter_span(sw, rw, v[0], v[2] - v[0], &need[0], &need[2]);
    filter_span(sh, rh, v[1], v[3] - v[1], &need[1], &need[3]);
}

void cnn_image_plan_region(const cnn_image_plan *plan, int denom,
                           int64_t full_w, int64_t full_h, int64_t region[4])
{
    int64_t c[4], v[4], need[4];
    crop_decoded(plan, denom, full_w, full_h, c);
    plan_reads(plan, c[2] - c[0], c[3] - c[1], v, need);
    if (need[2] <= need[0] || need[3] <= need[1]) { /* all padding */
        region[0] = c[0];
        region[1] = c[1];
        region[2] = c[0] + 1;
        region[3] = c[1] + 1;
        return;
    }
    region[0] = c[0] + need[0];
    region[1] = c[1] + need[1];
    region[2] = c[0] + need[2];
    region[3] = c[1] + need[3];
}

cnn_status cnn_image_plan_run(const char *caller, const cnn_image_plan *plan,
                              const cnn_image_rgb *img, int denom,
                              const float mean[3], const float std[3],
                              float *out)
{
    /* The crop in the decoded image's coordinates (the resampling's
     * input) and the valid part of the window; the pixels the filters
     * read must lie in the decoded part at hand (checked below). */
    int64_t crop[4], valid[4], need[4];
    crop_decoded(plan, denom, img->full_width, img->full_height, crop);
    const int64_t sw = crop[2] - crop[0], sh = crop[3] - crop[1];
    plan_reads(plan, sw, sh, valid, need);
    int64_t vx0 = valid[0], vy0 = valid[1], vx1 = valid[2], vy1 = valid[3];
    int64_t vw = vx1 > vx0 ? vx1 - vx0 : 0, vh = vy1 > vy0 ? vy1 - vy0 : 0;
    if (sw <= 0 || sh <= 0)
        return cnn_error(CNN_ERR_INTERNAL, "%s: an empty crop", caller);
    const int64_t width = img->width;
    const uint8_t *rgb = img->pixels;
    /* Crop pixel (x, y) is decoded pixel (x + dx, y + dy), dx and dy
     * possibly negative: only indices are formed from them. */
    const int64_t dx = crop[0] - img->left, dy = crop[1] - img->top;
    const int64_t rw = plan->resize_w, rh = plan->resize_h;
    const int64_t ow = plan->out_w, oh = plan->out_h;

    uint8_t *window = calloc((size_t)(ow * oh * 3), 1);
    uint8_t *temp = NULL;
    filter fh = {0}, fv = {0};
    int ok = window != NULL;
    int need_h = sw != rw, need_v = sh != rh;
    if (ok && vw > 0 && vh > 0) {
        /* Rows of the region that the window's rows read. */
        int64_t row_first = vy0, row_end = vy1;
        if (need_v) {
            ok = filter_make(&fv, sh, rh, vy0, vh);
            if (ok) {
                row_first = fv.bounds[0];
                row_end = fv.bounds[2 * (vh - 1)] + fv.bounds[2 * vh - 1];
            }
        }
        if (ok && need_h)
            ok = filter_make(&fh, sw, rw, vx0, vw);
        int64_t rows = row_end - row_first;
        int64_t col_first = vx0, col_end = vx1;
        if (ok && need_h) {
            col_first = fh.bounds[0];
            col_end = fh.bounds[2 * (vw - 1)] + fh.bounds[2 * vw - 1];
        }
        if (ok && (dx + col_first < 0 || dy + row_first < 0 ||
                   dx + col_end > img->width ||
                   dy + row_end > img->height)) {
            filter_free(&fh);
            filter_free(&fv);
            free(window);
            return cnn_error(CNN_ERR_INTERNAL, "%s: the decoded part of an "
                             "image misses the pixels the crop reads",
                             caller);
        }
        if (ok) {
            temp = malloc((size_t)(rows * vw * 3));
            ok = temp != NULL;
        }
        if (ok) {
            /* Horizontal pass (or a copy) of the rows needed. */
            for (int64_t y = 0; y < rows; ++y) {
                const uint8_t *src = rgb + (dy + row_first + y) * width * 3;
                uint8_t *dst = temp + y * vw * 3;
                if (!need_h) {
                    memcpy(dst, src + (dx + vx0) * 3, (size_t)vw * 3);
                    continue;
                }
                for (int64_t i = 0; i < vw; ++i) {
                    const int32_t *k = fh.kk + i * fh.ksize;
                    const uint8_t *s = src + (dx + fh.bounds[2 * i]) * 3;
                    int64_t n = fh.bounds[2 * i + 1];
                    int32_t s0 = 1 << (PRECISION_BITS - 1), s1 = s0, s2 = s0;
                    for (int64_t x = 0; x < n; ++x) {
                        s0 += s[3 * x] * k[x];
                        s1 += s[3 * x + 1] * k[x];
                        s2 += s[3 * x + 2] * k[x];
                    }
                    dst[3 * i] = clip8(s0);
                    dst[3 * i + 1] = clip8(s1);
                    dst[3 * i + 2] = clip8(s2);
                }
            }
            /* Vertical pass (or a copy) into the window: a row of
             * accumulators gathers each source row in turn (the sums are
             * integers, so the order changes nothing). */
            int32_t *acc = need_v ? malloc(sizeof *acc * (size_t)(vw * 3))
                                  : NULL;
            ok = !need_v || acc != NULL;
            for (int64_t j = 0; ok && j < vh; ++j) {
                uint8_t *dst = window + ((vy0 - plan->win_y + j) * ow +
                                         (vx0 - plan->win_x)) * 3;
                if (!need_v) {
                    memcpy(dst, temp + j * vw * 3, (size_t)vw * 3);
                    continue;
                }
                const int32_t *k = fv.kk + j * fv.ksize;
                int64_t y0 = fv.bounds[2 * j] - row_first,
                        n = fv.bounds[2 * j + 1];
                for (int64_t i = 0; i < vw * 3; ++i)
                    acc[i] = 1 << (PRECISION_BITS - 1);
                for (int64_t y = 0; y < n; ++y) {
                    const uint8_t *row = temp + (y0 + y) * vw * 3;
                    const int32_t ky = k[y];
                    for (int64_t i = 0; i < vw * 3; ++i)
                        acc[i] += row[i] * ky;
                }
                for (int64_t i = 0; i < vw * 3; ++i)
                    dst[i] = clip8(acc[i]);
            }
            free(acc);
        }
    }
    filter_free(&fh);
    filter_free(&fv);
    free(temp);
    if (!ok) {
        free(window);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY,
                         "%s: no memory to transform a %lld x %lld image",
                         caller, (long long)sw, (long long)sh);
    }
    /* Flip, ToTensor (v / 255 in float) and Normalize, into CHW, through
     * a table of the 256 results per channel (the same float operations,
     * done once). */
    float table[3][256];
    for (int c = 0; c < 3; ++c)
        for (int v = 0; v < 256; ++v)
            table[c][v] = ((float)v / 255.0f - mean[c]) / std[c];
    const int64_t plane = ow * oh;
    for (int64_t y = 0; y < oh; ++y) {
        const uint8_t *src = window + y * ow * 3;
        float *o = out + y * ow;
        for (int64_t x = 0; x < ow; ++x) {
            const uint8_t *px = src + (plan->flip ? ow - 1 - x : x) * 3;
            o[x] = table[0][px[0]];
            o[plane + x] = table[1][px[1]];
            o[2 * plane + x] = table[2][px[2]];
        }
    }
    free(window);
    return CNN_OK;
}
