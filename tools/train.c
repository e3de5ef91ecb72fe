/* tools/train.c - `cnn train` and `cnn eval`: train a model on an image
 * data set with SGD, evaluate it after every epoch, checkpoint it, and
 * record metrics (CSV, and a PNG plot through gnuplot when it is there).
 * Ctrl-C saves a checkpoint at the current batch and exits; --resume
 * continues from one exactly as if the run had never stopped. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cnn/cnn.h>

#include "../src/checked.h" /* header-only: the library's checked sizes */
#include "metrics_csv.h"
#include "options.h"
#include "tool.h"

/* The ranges of the numeric options: far beyond any real run, and small
 * enough that epochs times batches, and a batch times the classes, are
 * nowhere near overflowing (they are computed with checked arithmetic all
 * the same). */
#define MAX_EPOCHS 1000000
#define MAX_BATCH (1 << 20)
#define MAX_STEPS ((int64_t)1 << 40)
#define MAX_THREADS 4096

static volatile sig_atomic_t interrupted;

static void on_interrupt(int signal_number)
{
    (void)signal_number;
    interrupted = 1;
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Everything a run holds, freed by run_free. */
typedef struct run {
    cnn_dataset *train, *test;
    cnn_net *net;
    cnn_sgd *opt;
    cnn_loader *train_loader, *test_loader;
    cnn_tensor *images, *labels;
    float *logits;
    int32_t *host_labels;
    int64_t batch, classes;
    size_t logits_bytes, labels_bytes; /* of one batch */
    FILE *csv;
} run;

static void run_free(run *r)
{
    cnn_loader_free(r->train_loader);
    cnn_loader_free(r->test_loader);
    cnn_sgd_free(r->opt);
    cnn_net_free(r->net);
    cnn_dataset_free(r->train);
    cnn_dataset_free(r->test);
    cnn_tensor_free(r->images);
    cnn_tensor_free(r->labels);
    free(r->logits);
    free(r->host_labels);
    if (r->csv)
        fclose(r->csv);
}

/* Prints the failing call's message (unless the failure was explained
 * already and the message cleared) and returns exit status 1. */
static int fail(const char *command, cnn_status s)
{
    if (cnn_last_error()[0])
        fprintf(stderr, "cnn %s: %s (%s)\n", command, cnn_last_error(),
                cnn_status_string(s));
    return 1;
}

#define CHECK(call)                                                         \
    do {                                                                    \
        cnn_status s_ = (call);                                             \
        if (s_ != CNN_OK) {                                                 \
            rc = fail(command, s_);                                         \
            goto done;                                                      \
        }                                                                   \
    } while (0)

/* mkdir -p: the folder and every missing parent; 0 when it exists (and
 * is writable) at the end, else -1 with errno set. */
static int make_folders(const char *path)
{
    char buf[2048];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1; *p; ++p) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -1;
    return access(buf, W_OK);
}

/* Opens the training or test half of the data set named by `data`:
 * "fashion-mnist" (Debian's package, or $CNN_FASHION_MNIST) or a folder
 * holding the four IDX files of an MNIST-like set. */
static cnn_status open_data(const char *data, int train, cnn_dataset **out)
{
    if (strcmp(data, "fashion-mnist") == 0)
        return cnn_dataset_open_fashion_mnist(out, NULL, train);
    return cnn_dataset_open_fashion_mnist(out, data, train);
}

/* Counts correct argmax predictions among the first `count` rows. */
static int64_t correct(const float *logits, const int32_t *labels,
                       int64_t count, int64_t classes)
{
    int64_t hits = 0;
    for (int64_t i = 0; i < count; ++i) {
        const float *row = logits + i * classes;
        int64_t best = 0;
        for (int64_t c = 1; c < classes; ++c)
            if (row[c] > row[best])
                best = c;
        hits += best == labels[i];
    }
    return hits;
}

/* Runs the test set in inference mode: mean loss and accuracy. The last
 * batch may be partial: its padding rows are ignored (batch norm uses its
 * running statistics in inference, so they influence nothing). */
static cnn_status evaluate(run *r, int64_t max_batches, double *loss,
                           double *accuracy)
{
    cnn_status s = cnn_loader_start_epoch(r->test_loader, 0, 0);
    double loss_sum = 0.0;
    int64_t seen = 0, hits = 0, count = 0, batches = 0;
    while (s == CNN_OK && (max_batches == 0 || batches++ < max_batches)) {
        s = cnn_loader_next(r->test_loader, r->images, r->labels, &count);
        if (s != CNN_OK || count == 0)
            break;
        s = cnn_net_forward(r->net, r->images, 0, 0);
        float batch_loss = 0.0f;
        if (s == CNN_OK && count == r->batch)
            s = cnn_net_loss(r->net, r->labels, &batch_loss);
        if (s == CNN_OK)
            s = cnn_tensor_read(cnn_net_output(r->net), r->logits,
                                r->logits_bytes);
        if (s == CNN_OK)
            s = cnn_tensor_read(r->labels, r->host_labels, r->labels_bytes);
        if (s != CNN_OK)
            break;
        if (count < r->batch) { /* the loss of the valid rows only */
            for (int64_t i = 0; i < count; ++i) /* as cnn_net_loss checks */
                if (r->host_labels[i] < 0 || r->host_labels[i] >= r->classes) {
                    fprintf(stderr, "cnn: test sample %lld has label %d but "
                            "the model has %lld classes\n",
                            (long long)(seen + i), (int)r->host_labels[i],
                            (long long)r->classes);
                    cnn_clear_error();
                    return CNN_ERR_FORMAT;
                }
            for (int64_t i = 0; i < count; ++i) {
                const float *row = r->logits + i * r->classes;
                double top = row[0], sum = 0.0;
                for (int64_t c = 1; c < r->classes; ++c)
                    top = row[c] > top ? row[c] : top;
                for (int64_t c = 0; c < r->classes; ++c)
                    sum += exp(row[c] - top);
                loss_sum += log(sum) + top - row[r->host_labels[i]];
            }
        } else {
            loss_sum += (double)batch_loss * (double)count;
        }
        hits += correct(r->logits, r->host_labels, count, r->classes);
        seen += count;
    }
    *loss = seen ? loss_sum / (double)seen : 0.0;
    *accuracy = seen ? (double)hits / (double)seen : 0.0;
    return s;
}

static void progress(int tty, int64_t epoch, int64_t epochs, int64_t batch,
                     int64_t batches, double loss, double acc, double rate,
                     double eta)
{
    if (!tty)
        return;
    const int width = 24;
    int filled = (int)(width * (batch + 1) / (batches ? batches : 1));
    char bar[32];
    for (int i = 0; i < width; ++i)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    printf("\repoch %lld/%lld [%s] %lld/%lld loss %.4f acc %.2f%% %.0f img/s "
           "ETA %.0fs   ", (long long)epoch + 1, (long long)epochs, bar,
           (long long)batch + 1, (long long)batches, loss, 100.0 * acc, rate,
           eta);
    fflush(stdout);
}

/* Draws loss and accuracy per epoch from the CSV with gnuplot, if the
 * machine has it. */
static void plot(const char *folder, const char *csv_path)
{
    if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
        printf("plot: gnuplot not found, no plot (apt-get install "
               "gnuplot-nox)\n");
        return;
    }
    char png[4096];
    snprintf(png, sizeof png, "%s/metrics.png", folder);
    FILE *g = popen("gnuplot", "w");
    if (!g)
        return;
    fprintf(g,
            "set terminal png size 900,400\n"
            "set output '%s'\n"
            "set datafile separator ','\n"
            "set key autotitle columnhead\n"
            "set multiplot layout 1,2\n"
            /* From half an epoch before the first to half after the last,
             * so that a single epoch is a range too. */
            "set xrange [0.5:*]\nset offsets 0, 0.5, 0, 0\n"
            "set xlabel 'epoch'\nset title 'loss'\n"
            "plot '%s' using 1:4 with linespoints title 'train', "
            "'' using 1:6 with linespoints title 'test'\n"
            "set title 'accuracy (%%)'\nset key bottom right\n"
            "plot '%s' using 1:($5*100) with linespoints title 'train', "
            "'' using 1:($7*100) with linespoints title 'test'\n"
            "unset multiplot\n",
            png, csv_path, csv_path);
    if (pclose(g) == 0)
        printf("plot: %s\n", png);
}

/* The checkpoint's metadata `key` as an integer in [0, max] into *out
 * (left as it is when the key is absent); false, with a message, when it
 * is not one. */
static bool meta_int(const cnn_checkpoint *ck, const char *path,
                     const char *key, int64_t max, int64_t *out)
{
    const char *v = cnn_checkpoint_meta(ck, key);
    if (!v)
        return true;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max) {
        fprintf(stderr, "cnn train: %s: its %s \"%.40s\" is not an integer "
                "in [0, %lld]\n", path, key, v, (long long)max);
        return false;
    }
    *out = n;
    return true;
}

/* Saves the net and optimizer with where to continue from. */
static cnn_status save(run *r, const char *path, const char *model,
                       uint64_t seed, int64_t epoch, int64_t next_batch,
                       int64_t step)
{
    char e[32], b[32], st[32], sd[32], bs[32];
    snprintf(e, sizeof e, "%lld", (long long)epoch);
    snprintf(b, sizeof b, "%lld", (long long)next_batch);
    snprintf(st, sizeof st, "%lld", (long long)step);
    snprintf(sd, sizeof sd, "%llu", (unsigned long long)seed);
    snprintf(bs, sizeof bs, "%lld", (long long)r->batch);
    const char *keys[6] = {"model", "epoch", "next_batch", "step", "seed",
                           "batch"};
    const char *values[6] = {model, e, b, st, sd, bs};
    return cnn_net_save(r->net, r->opt, path, keys, values, 6);
}

int cnn_tool_train(int argc, char **argv)
{
    static const char command[] = "train";
    const char *model = "small", *data = "fashion-mnist", *device = "auto";
    const char *engine = "auto", *schedule = "cosine", *out_dir = NULL;
    const char *checkpoint = NULL, *resume = NULL;
    int64_t epochs = 3, batch = 64, warmup = 0, step_size = 0, threads = 0;
    int64_t seed = 1, limit = 0, eval_limit = 0;
    double lr = 0.05, momentum = 0.9, weight_decay = 5e-4, gamma = 0.1;
    int nesterov = 0;
    option options[] = {
        {"model", OPTION_STRING, &model, "small, alexnet, resnet18, ..."},
        {"data", OPTION_STRING, &data,
         "fashion-mnist, or a folder of MNIST-like IDX files"},
        {"epochs", OPTION_INT, &epochs, "passes over the training set",
         .min = 1, .max = MAX_EPOCHS},
        {"batch", OPTION_INT, &batch, "images per step", .min = 1,
         .max = MAX_BATCH},
        {"lr", OPTION_FLOAT, &lr, "learning rate", .low = 0, .high = 1e3,
         .low_open = 1},
        {"schedule", OPTION_STRING, &schedule, "constant, step or cosine"},
        {"warmup", OPTION_INT, &warmup, "linear warm-up steps", .min = 0,
         .max = MAX_STEPS},
        {"step-size", OPTION_INT, &step_size,
         "step schedule: steps between decays (0: one epoch)", .min = 0,
         .max = MAX_STEPS},
        {"gamma", OPTION_FLOAT, &gamma, "step schedule: decay factor",
         .low = 0, .high = 1e3},
        {"momentum", OPTION_FLOAT, &momentum, "SGD momentum", .low = 0,
         .high = 1e3},
        {"weight-decay", OPTION_FLOAT, &weight_decay, "L2 weight decay",
         .low = 0, .high = 1e3},
        {"nesterov", OPTION_FLAG, &nesterov, "Nesterov momentum"},
        {"device", OPTION_STRING, &device, "auto, cpu, cuda:N"},
        {"engine", OPTION_STRING, &engine, "auto, native, vendor, reference"},
        {"threads", OPTION_INT, &threads, "CPU threads (0: all)", .min = 0,
         .max = MAX_THREADS},
        {"seed", OPTION_INT, &seed, "weights, data order and dropout",
         .min = 0, .max = INT64_MAX},
        {"out", OPTION_STRING, &out_dir, "folder for metrics, plot, checkpoint "
                                         "(default runs/MODEL)"},
        {"checkpoint", OPTION_STRING, &checkpoint,
         "checkpoint path (default OUT/model.ckpt)"},
        {"resume", OPTION_STRING, &resume, "continue from this checkpoint"},
        {"limit-batches", OPTION_INT, &limit,
         "stop each epoch after this many batches (0: all)", .min = 0,
         .max = MAX_STEPS},
        {"eval-batches", OPTION_INT, &eval_limit,
         "test batches per evaluation (0: the whole test set)", .min = 0,
         .max = MAX_STEPS},
    };
    const int count = (int)(sizeof options / sizeof options[0]);
    static const char summary[] =
        "Trains a model with SGD, evaluates it on the test set after every "
        "epoch,\nand writes metrics.csv, metrics.png and a checkpoint.";
    int rc = options_parse(command, summary, options, count, argc, argv, 1);
    if (rc)
        return rc == 1 ? 0 : rc;
    cnn_lr_params lrp = {.base = (float)lr, .gamma = (float)gamma,
                         .warmup_steps = warmup};
    if (strcmp(schedule, "constant") == 0)
        lrp.schedule = CNN_LR_CONSTANT;
    else if (strcmp(schedule, "step") == 0)
        lrp.schedule = CNN_LR_STEP;
    else if (strcmp(schedule, "cosine") == 0)
        lrp.schedule = CNN_LR_COSINE;
    else
        rc = 2;
    if (rc) { /* the numbers were range-checked by options_parse */
        fprintf(stderr, "cnn train: bad value: --schedule must be constant, "
                "step or cosine\n\n");
        options_usage(stderr, command, summary, options, count);
        return 2;
    }
    cnn_device dev;
    if (cnn_device_parse(device, &dev) != CNN_OK) {
        fprintf(stderr, "cnn train: %s\n", cnn_last_error());
        return 2;
    }
    /* Option texts are at most OPTION_TEXT_MAX bytes, so these fit; a
     * path that would not is refused rather than cut short. */
    char folder[OPTION_TEXT_MAX + 16], csv_path[4096], ckpt_path[4096];
    int lengths[3];
    lengths[0] = out_dir ? snprintf(folder, sizeof folder, "%s", out_dir)
                         : snprintf(folder, sizeof folder, "runs/%s", model);
    lengths[1] = snprintf(csv_path, sizeof csv_path, "%s/metrics.csv", folder);
    lengths[2] = checkpoint
                     ? snprintf(ckpt_path, sizeof ckpt_path, "%s", checkpoint)
                     : snprintf(ckpt_path, sizeof ckpt_path, "%s/model.ckpt",
                                folder);
    if (lengths[0] < 0 || lengths[0] >= (int)sizeof folder ||
        lengths[1] < 0 || lengths[1] >= (int)sizeof csv_path ||
        lengths[2] < 0 || lengths[2] >= (int)sizeof ckpt_path) {
        fprintf(stderr, "cnn train: the --out or --checkpoint path is too "
                "long\n");
        return 2;
    }
    if (make_folders(folder) != 0) {
        fprintf(stderr, "cnn train: cannot create the folder %s: %s\n",
                folder, strerror(errno));
        return 1;
    }

    run r = {.batch = batch};
    int64_t start_epoch = 0, start_batch = 0, step = 0;
    CHECK(cnn_device_check(dev));
    if (strcmp(engine, "auto") != 0) {
        cnn_engine e = strcmp(engine, "native") == 0      ? CNN_ENGINE_NATIVE
                       : strcmp(engine, "vendor") == 0    ? CNN_ENGINE_VENDOR
                       : strcmp(engine, "reference") == 0 ? CNN_ENGINE_REFERENCE
                                                          : (cnn_engine)-1;
        CHECK(cnn_set_engine(dev, e));
    }
    if (threads > 0)
        CHECK(cnn_set_threads(cnn_cpu(), (int)threads));
    CHECK(open_data(data, 1, &r.train));
    CHECK(open_data(data, 0, &r.test));
    r.classes = cnn_dataset_classes(r.train);
    if (cnn_dataset_classes(r.test) > r.classes) {
        fprintf(stderr, "cnn train: the test set of %s has labels up to %d "
                "but the training set only %lld classes\n", data,
                cnn_dataset_classes(r.test) - 1, (long long)r.classes);
        rc = 1;
        goto done;
    }
    CHECK(cnn_model_by_name(&r.net, model, r.classes, dev));
    int64_t image[3], net_in[4];
    int ndim;
    cnn_dataset_image_shape(r.train, image);
    CHECK(cnn_net_node_shape(r.net, 0, &ndim, net_in));
    if (net_in[1] != image[0] || net_in[2] != image[1] ||
        net_in[3] != image[2]) {
        fprintf(stderr, "cnn train: %s takes %lldx%lldx%lld images but %s has "
                "%lldx%lldx%lld\n", model, (long long)net_in[2],
                (long long)net_in[3], (long long)net_in[1], data,
                (long long)image[1], (long long)image[2], (long long)image[0]);
        rc = 2;
        goto done;
    }
    CHECK(cnn_net_setup(r.net, batch));
    if (resume) {
        /* The run's seed, position and model come from the checkpoint: the
         * seed also drives the data order and the dropout masks. */
        cnn_checkpoint *ck = NULL;
        CHECK(cnn_checkpoint_open(&ck, resume));
        const char *saved_model = cnn_checkpoint_meta(ck, "model");
        bool same_model = saved_model && strcmp(saved_model, model) == 0;
        if (!same_model)
            fprintf(stderr, "cnn train: %s holds model %s, not %s\n", resume,
                    saved_model ? saved_model : "(unknown)", model);
        /* Bounded, so that the step count and the positions cannot
         * overflow however the run goes on. */
        bool meta_ok = meta_int(ck, resume, "epoch", MAX_EPOCHS, &start_epoch) &&
                       meta_int(ck, resume, "next_batch", MAX_STEPS,
                                &start_batch) &&
                       meta_int(ck, resume, "step", MAX_STEPS * MAX_EPOCHS,
                                &step) &&
                       meta_int(ck, resume, "seed", INT64_MAX, &seed);
        cnn_checkpoint_close(ck);
        if (!same_model || !meta_ok) {
            rc = same_model ? 1 : 2;
            goto done;
        }
    }
    CHECK(cnn_net_init(r.net, (uint64_t)seed));
    CHECK(cnn_sgd_create(&r.opt, r.net, (float)momentum, (float)weight_decay,
                         nesterov));
    if (resume) {
        CHECK(cnn_net_load(r.net, r.opt, resume, NULL));
        printf("resuming %s at epoch %lld, batch %lld, step %lld\n", resume,
               (long long)start_epoch + 1, (long long)start_batch,
               (long long)step);
    }
    cnn_loader_params train_params = {.batch_size = batch,
                                      .seed = (uint64_t)seed, .shuffle = 1,
                                      .drop_last = 1};
    cnn_loader_params test_params = {.batch_size = batch};
    CHECK(cnn_loader_create(&r.train_loader, r.train, &train_params));
    CHECK(cnn_loader_create(&r.test_loader, r.test, &test_params));
    const int64_t idims[4] = {batch, image[0], image[1], image[2]};
    CHECK(cnn_tensor_create(&r.images, dev, CNN_F32, 4, idims));
    CHECK(cnn_tensor_create(&r.labels, dev, CNN_I32, 1, &batch));
    int64_t batch_logits = 0;
    if (cnn_checked_mul_i64(batch, r.classes, &batch_logits) &&
        cnn_checked_bytes(batch_logits, sizeof(float), &r.logits_bytes) &&
        cnn_checked_bytes(batch, sizeof(int32_t), &r.labels_bytes)) {
        r.logits = malloc(r.logits_bytes);
        r.host_labels = malloc(r.labels_bytes);
    }
    if (!r.logits || !r.host_labels) {
        fprintf(stderr, "cnn train: out of host memory\n");
        rc = 1;
        goto done;
    }
    int64_t batches = cnn_loader_batches(r.train_loader);
    if (limit > 0 && limit < batches)
        batches = limit;
    if (lrp.schedule == CNN_LR_STEP && step_size == 0)
        lrp.step_size = batches;
    else
        lrp.step_size = step_size;
    if (!cnn_checked_mul_i64(epochs, batches, &lrp.total_steps)) {
        fprintf(stderr, "cnn train: %lld epochs of %lld batches are too many "
                "steps\n", (long long)epochs, (long long)batches);
        rc = 2;
        goto done;
    }
    /* On a resume, the rows of epochs the checkpoint does not hold (written
     * before a kill interrupted the save) are dropped: they are redone. */
    if (metrics_csv_open(csv_path, resume != NULL, start_epoch, &r.csv) != 0) {
        fprintf(stderr, "cnn train: cannot write %s: %s\n", csv_path,
                strerror(errno));
        rc = 1;
        goto done;
    }
    char devname[32];
    cnn_device_format(dev, devname, sizeof devname);
    /* The handler first, then the line (flushed, for a pipe too), so that
     * whoever waits for the line knows that Ctrl-C now saves. */
    signal(SIGINT, on_interrupt);
    printf("training %s on %s (%lld classes) on %s: %lld epochs of %lld "
           "batches of %lld, lr %g (%s), seed %lld\n", model, data,
           (long long)r.classes, cnn_device_name(dev), (long long)epochs,
           (long long)batches, (long long)batch, lr, schedule, (long long)seed);
    fflush(stdout);
    const int tty = isatty(STDOUT_FILENO);
    const double run_start = now_seconds();
    for (int64_t epoch = start_epoch; epoch < epochs; ++epoch) {
        CHECK(cnn_loader_start_epoch(r.train_loader, epoch,
                                     epoch == start_epoch ? start_batch : 0));
        double loss_sum = 0.0, epoch_start = now_seconds();
        int64_t hits = 0, seen = 0;
        for (int64_t b = epoch == start_epoch ? start_batch : 0; b < batches;
             ++b) {
            if (interrupted) {
                if (tty)
                    printf("\n");
                CHECK(save(&r, ckpt_path, model, (uint64_t)seed, epoch, b,
                           step));
                printf("interrupted at epoch %lld, batch %lld: saved %s "
                       "(resume with --resume %s)\n", (long long)epoch + 1,
                       (long long)b, ckpt_path, ckpt_path);
                rc = 130;
                goto done;
            }
            int64_t n = 0;
            float loss = 0.0f;
            CHECK(cnn_loader_next(r.train_loader, r.images, r.labels, &n));
            CHECK(cnn_net_forward(r.net, r.images, 1, (uint64_t)step));
            CHECK(cnn_net_loss(r.net, r.labels, &loss));
            CHECK(cnn_net_zero_grad(r.net));
            CHECK(cnn_net_backward(r.net));
            CHECK(cnn_sgd_apply(r.opt, cnn_lr_at(&lrp, step)));
            CHECK(cnn_tensor_read(cnn_net_output(r.net), r.logits,
                                  r.logits_bytes));
            CHECK(cnn_tensor_read(r.labels, r.host_labels, r.labels_bytes));
            if (!isfinite(loss)) {
                if (tty) /* ends the progress line */
                    printf("\n");
                fprintf(stderr, "cnn train: the loss became %g at step %lld; "
                        "lower --lr\n", (double)loss, (long long)step);
                rc = 1;
                goto done;
            }
            hits += correct(r.logits, r.host_labels, n, r.classes);
            seen += n;
            loss_sum += (double)loss * (double)n;
            ++step;
            double elapsed = now_seconds() - epoch_start;
            double rate = (double)seen / (elapsed > 0 ? elapsed : 1e-9);
            double eta = ((double)(epochs - epoch) * (double)batches -
                          (double)b - 1.0) * (double)batch / rate;
            progress(tty, epoch, epochs, b, batches, loss_sum / (double)seen,
                     (double)hits / (double)seen, rate, eta);
        }
        double seconds = now_seconds() - epoch_start;
        double test_loss = 0.0, test_acc = 0.0;
        CHECK(evaluate(&r, eval_limit, &test_loss, &test_acc));
        double train_loss = seen ? loss_sum / (double)seen : 0.0;
        double train_acc = seen ? (double)hits / (double)seen : 0.0;
        double rate = (double)seen / (seconds > 0 ? seconds : 1e-9);
        if (tty)
            printf("\n");
        printf("epoch %lld/%lld: train loss %.4f acc %.2f%%, test loss %.4f "
               "acc %.2f%%, %.0f images/s, %.1f s\n", (long long)epoch + 1,
               (long long)epochs, train_loss, 100.0 * train_acc, test_loss,
               100.0 * test_acc, rate, seconds);
        fprintf(r.csv, "%lld,%lld,%g,%.6f,%.6f,%.6f,%.6f,%.1f,%.2f\n",
                (long long)epoch + 1, (long long)step,
                (double)cnn_lr_at(&lrp, step > 0 ? step - 1 : 0), train_loss,
                train_acc, test_loss, test_acc, rate, seconds);
        fflush(r.csv);
        CHECK(save(&r, ckpt_path, model, (uint64_t)seed, epoch + 1, 0, step));
    }
    printf("done in %.1f s: checkpoint %s, metrics %s\n",
           now_seconds() - run_start, ckpt_path, csv_path);
    fclose(r.csv);
    r.csv = NULL;
    plot(folder, csv_path);
    rc = 0;
done:
    run_free(&r);
    return rc;
}

int cnn_tool_eval(int argc, char **argv)
{
    static const char command[] = "eval";
    const char *model = "small", *data = "fashion-mnist", *device = "auto";
    const char *checkpoint = NULL;
    int64_t batch = 100;
    option options[] = {
        {"model", OPTION_STRING, &model, "the checkpoint's model"},
        {"checkpoint", OPTION_STRING, &checkpoint, "checkpoint to evaluate"},
        {"data", OPTION_STRING, &data, "fashion-mnist or an IDX folder"},
        {"batch", OPTION_INT, &batch, "images per forward pass", .min = 1,
         .max = MAX_BATCH},
        {"device", OPTION_STRING, &device, "auto, cpu, cuda:N"},
    };
    const int count = (int)(sizeof options / sizeof options[0]);
    static const char summary[] =
        "Evaluates a checkpoint on the test set: loss and accuracy.";
    int rc = options_parse(command, summary, options, count, argc, argv, 1);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!checkpoint) {
        fprintf(stderr, "cnn eval: --checkpoint is required\n\n");
        options_usage(stderr, command, summary, options, count);
        return 2;
    }
    cnn_device dev;
    if (cnn_device_parse(device, &dev) != CNN_OK) {
        fprintf(stderr, "cnn eval: %s\n", cnn_last_error());
        return 2;
    }
    run r = {.batch = batch};
    double loss = 0.0, accuracy = 0.0;
    CHECK(cnn_device_check(dev));
    CHECK(open_data(data, 0, &r.test));
    r.classes = cnn_dataset_classes(r.test);
    CHECK(cnn_model_by_name(&r.net, model, r.classes, dev));
    CHECK(cnn_net_setup(r.net, batch));
    CHECK(cnn_net_load(r.net, NULL, checkpoint, NULL));
    cnn_loader_params test_params = {.batch_size = batch};
    CHECK(cnn_loader_create(&r.test_loader, r.test, &test_params));
    int64_t image[3];
    cnn_dataset_image_shape(r.test, image);
    const int64_t idims[4] = {batch, image[0], image[1], image[2]};
    CHECK(cnn_tensor_create(&r.images, dev, CNN_F32, 4, idims));
    CHECK(cnn_tensor_create(&r.labels, dev, CNN_I32, 1, &batch));
    int64_t batch_logits = 0;
    if (cnn_checked_mul_i64(batch, r.classes, &batch_logits) &&
        cnn_checked_bytes(batch_logits, sizeof(float), &r.logits_bytes) &&
        cnn_checked_bytes(batch, sizeof(int32_t), &r.labels_bytes)) {
        r.logits = malloc(r.logits_bytes);
        r.host_labels = malloc(r.labels_bytes);
    }
    if (!r.logits || !r.host_labels) {
        fprintf(stderr, "cnn eval: out of host memory\n");
        rc = 1;
        goto done;
    }
    CHECK(evaluate(&r, 0, &loss, &accuracy));
    printf("%s on %s: test loss %.4f, accuracy %.2f%% (%lld images)\n",
           checkpoint, data, loss, 100.0 * accuracy,
           (long long)cnn_dataset_size(r.test));
    rc = 0;
done:
    run_free(&r);
    return rc;
}
