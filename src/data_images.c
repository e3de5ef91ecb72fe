/* src/data_images.c - image folders (one sub-folder per class, as
 * torchvision's ImageFolder) and list files: the file list is built at open
 * time, each file is read, decoded and transformed when its sample is asked
 * for (docs/data.md). */
/* d_type (DT_REG, DT_DIR) in struct dirent. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core.h"
#include "dataset_impl.h"
#include "image_decode.h"
#include "image_transform.h"

/* A file larger than this is refused without being read. */
#define MAX_FILE_BYTES ((int64_t)1 << 30)
/* Folders nested deeper than this below a class folder are not entered. */
#define MAX_DEPTH 64

/* A growing array of strings kept in one buffer. */
typedef struct strings {
    char *text;
    size_t used, capacity;
    int64_t *offsets;
    int64_t count, slots;
} strings;

static int strings_add(strings *s, const char *str)
{
    size_t n = strlen(str) + 1;
    if (s->used + n > s->capacity) {
        size_t cap = s->capacity ? s->capacity : 4096;
        while (cap < s->used + n)
            cap *= 2;
        char *bigger = realloc(s->text, cap);
        if (!bigger)
            return 0;
        s->text = bigger;
        s->capacity = cap;
    }
    if (s->count == s->slots) {
        int64_t slots = s->slots ? 2 * s->slots : 256;
        int64_t *bigger = realloc(s->offsets, sizeof *bigger * (size_t)slots);
        if (!bigger)
            return 0;
        s->offsets = bigger;
        s->slots = slots;
    }
    memcpy(s->text + s->used, str, n);
    s->offsets[s->count++] = (int64_t)s->used;
    s->used += n;
    return 1;
}

static const char *strings_at(const strings *s, int64_t i)
{
    return s->text + s->offsets[i];
}

static void strings_free(strings *s)
{
    free(s->text);
    free(s->offsets);
    *s = (strings){0};
}

typedef struct image_data {
    cnn_image_params params; /* resolved */
    strings paths;           /* one per sample */
    int32_t *labels;         /* one per sample */
    strings classes;         /* folder names; empty for lists */
} image_data;

static void image_destroy(void *impl)
{
    image_data *d = impl;
    if (!d)
        return;
    strings_free(&d->paths);
    strings_free(&d->classes);
    free(d->labels);
    free(d);
}

static const char *image_class_name(const cnn_dataset *ds, int k)
{
    const image_data *d = ds->impl;
    return k < d->classes.count ? strings_at(&d->classes, k) : NULL;
}

static const char *image_sample_path(const cnn_dataset *ds, int64_t index)
{
    const image_data *d = ds->impl;
    return strings_at(&d->paths, index);
}

/* Reads a whole regular file into memory. */
static cnn_status read_whole(const char *caller, const char *path,
                             uint8_t **out, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cnn_error(CNN_ERR_IO, "%s: cannot open %s: %s", caller, path,
                         strerror(errno));
    struct stat st;
    cnn_status s = CNN_OK;
    if (fstat(fd, &st) != 0)
        s = cnn_error(CNN_ERR_IO, "%s: cannot examine %s: %s", caller, path,
                      strerror(errno));
    else if (!S_ISREG(st.st_mode))
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is not a regular file", caller,
                      path);
    else if (st.st_size == 0)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is empty (0 bytes)", caller,
                      path);
    else if ((int64_t)st.st_size > MAX_FILE_BYTES)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is %lld bytes, over the limit "
                      "of %lld for an image file", caller, path,
                      (long long)st.st_size, (long long)MAX_FILE_BYTES);
    uint8_t *data = NULL;
    size_t used = 0;
    if (s == CNN_OK) {
        data = malloc((size_t)st.st_size);
        if (!data)
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to read %s",
                          caller, path);
    }
    while (s == CNN_OK && used < (size_t)st.st_size) {
        ssize_t n = read(fd, data + used, (size_t)st.st_size - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            s = cnn_error(CNN_ERR_IO, "%s: cannot read %s: %s", caller, path,
                          strerror(errno));
        else if (n == 0)
            break; /* shrank since fstat: decode what is there */
        else
            used += (size_t)n;
    }
    close(fd);
    if (s == CNN_OK && used == 0)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s is empty (0 bytes)", caller,
                      path);
    if (s != CNN_OK) {
        free(data);
        return s;
    }
    *out = data;
    *size = used;
    return CNN_OK;
}

static cnn_status image_get(const cnn_dataset *ds, int64_t index,
                            uint64_t seed, int64_t epoch, float *image,
                            int32_t *label)
{
    static const char caller[] = "cnn_dataset_get_sample";
    const image_data *d = ds->impl;
    if (label)
        *label = d->labels[index];
    if (!image)
        return CNN_OK;
    const char *path = strings_at(&d->paths, index);
    const cnn_image_params *p = &d->params;
    uint8_t *data = NULL;
    size_t size = 0;
    cnn_status s = read_whole(caller, path, &data, &size);
    cnn_image_kind kind = CNN_IMAGE_UNKNOWN;
    int64_t w = 0, h = 0;
    if (s == CNN_OK)
        s = cnn_image_probe(caller, path, data, size, p->max_pixels, &kind,
                            &w, &h);
    cnn_image_plan plan;
    cnn_image_rgb rgb = {0};
    int denom = 1;
    if (s == CNN_OK) {
        cnn_image_plan_make(p, w, h, seed, epoch, index, &plan);
        if (kind == CNN_IMAGE_JPEG && p->dct_scaling)
            denom = cnn_image_plan_denom(&plan);
        /* Only the crop's part of a JPEG is decoded. */
        int64_t region[4];
        cnn_image_plan_region(&plan, denom, (w + denom - 1) / denom,
                              (h + denom - 1) / denom, region);
        s = cnn_image_decode(caller, path, data, size, p->max_pixels, denom,
                             region, &rgb);
    }
    free(data);
    if (s == CNN_OK && (rgb.full_width != (w + denom - 1) / denom ||
                        rgb.full_height != (h + denom - 1) / denom))
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s decoded to %lld x %lld but its "
                      "header says %lld x %lld", caller, path,
                      (long long)rgb.full_width, (long long)rgb.full_height,
                      (long long)w, (long long)h);
    if (s == CNN_OK)
        s = cnn_image_plan_run(caller, &plan, &rgb, denom, p->mean, p->std,
                               image);
    free(rgb.pixels);
    return s;
}

static const cnn_dataset_source images_source = {
    "images", image_get, image_destroy, image_class_name, image_sample_path};

/* ----------------------------------------------------------- the folders */

static int has_image_extension(const char *name)
{
    static const char *const extensions[] = {".jpg", ".jpeg", ".png"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof extensions / sizeof *extensions; ++i) {
        size_t m = strlen(extensions[i]);
        if (n < m)
            continue;
        size_t k = 0;
        while (k < m && tolower((unsigned char)name[n - m + k]) ==
                            extensions[i][k])
            ++k;
        if (k == m)
            return 1;
    }
    return 0;
}

typedef struct found_file {
    int64_t dir, name; /* offsets in the scan's text */
} found_file;

/* What a scan of one class folder collects. */
typedef struct scan {
    const char *caller;
    strings text; /* folder paths and file names */
    found_file *files;
    int64_t count, slots;
    int64_t skipped, ignored;
    dev_t devs[MAX_DEPTH + 1];
    ino_t inos[MAX_DEPTH + 1];
    int oom;
} scan;

static void skip(scan *sc, const char *path, const char *why)
{
    ++sc->skipped;
    cnn_log(CNN_LOG_WARN, "%s: skipped %s: %s", sc->caller, path, why);
}

static void add_file(scan *sc, int64_t dir, const char *name)
{
    if (sc->count == sc->slots) {
        int64_t slots = sc->slots ? 2 * sc->slots : 256;
        found_file *bigger = realloc(sc->files, sizeof *bigger * (size_t)slots);
        if (!bigger) {
            sc->oom = 1;
            return;
        }
        sc->files = bigger;
        sc->slots = slots;
    }
    int64_t name_at = sc->text.count;
    if (!strings_add(&sc->text, name)) {
        sc->oom = 1;
        return;
    }
    sc->files[sc->count++] = (found_file){dir, name_at};
}

/* Walks folder `path` (already known to be a folder with this dev and inode,
 * at `depth` below the class folder), following links. */
static void walk(scan *sc, const char *path, int depth)
{
    DIR *dir = opendir(path);
    if (!dir) {
        skip(sc, path, strerror(errno));
        return;
    }
    int64_t dir_at = sc->text.count;
    if (!strings_add(&sc->text, path)) {
        sc->oom = 1;
        closedir(dir);
        return;
    }
    /* Subfolders are walked after the folder's own entries are read, so
     * that only one DIR is open per level. */
    strings subdirs = {0};
    struct dirent *e;
    char child[PATH_MAX];
    while (!sc->oom && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >=
            (int)sizeof child) {
            skip(sc, path, "a name in it makes a path too long");
            continue;
        }
        int image = has_image_extension(e->d_name);
        if (e->d_type == DT_REG && !image) {
            ++sc->ignored;
            continue;
        }
        struct stat st;
        if (stat(child, &st) != 0) {
            skip(sc, child, errno == ELOOP ? "a symbolic link loop"
                                           : strerror(errno));
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            int loop = 0;
            for (int i = 0; i <= depth; ++i)
                loop |= sc->devs[i] == st.st_dev && sc->inos[i] == st.st_ino;
            if (loop)
                skip(sc, child, "a symbolic link loop (a folder inside "
                                "itself)");
            else if (depth + 1 > MAX_DEPTH)
                skip(sc, child, "folders nested too deep");
            else if (!strings_add(&subdirs, e->d_name))
                sc->oom = 1;
        } else if (!image || !S_ISREG(st.st_mode)) {
            ++sc->ignored;
        } else if (st.st_size == 0) {
            skip(sc, child, "an empty file (0 bytes)");
        } else {
            add_file(sc, dir_at, e->d_name);
        }
    }
    closedir(dir);
    for (int64_t i = 0; i < subdirs.count && !sc->oom; ++i) {
        snprintf(child, sizeof child, "%s/%s", path, strings_at(&subdirs, i));
        struct stat st;
        if (stat(child, &st) != 0)
            continue;
        sc->devs[depth + 1] = st.st_dev;
        sc->inos[depth + 1] = st.st_ino;
        walk(sc, child, depth + 1);
    }
    strings_free(&subdirs);
}

typedef struct found_names {
    const char *dir, *name;
} found_names;

/* torchvision's order: sorted(os.walk(...)) sorts by folder path, then
 * each folder's files by name. */
static int compare_found(const void *a, const void *b)
{
    const found_names *x = a, *y = b;
    int c = strcmp(x->dir, y->dir);
    return c != 0 ? c : strcmp(x->name, y->name);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The sorted names of the sub-folders of root (links followed). */
static cnn_status list_classes(const char *caller, const char *root,
                               strings *names, int64_t *skipped)
{
    DIR *dir = opendir(root);
    if (!dir)
        return cnn_error(CNN_ERR_IO, "%s: cannot read the folder %s: %s",
                         caller, root, strerror(errno));
    strings found = {0};
    struct dirent *e;
    char path[PATH_MAX];
    int oom = 0;
    while (!oom && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof path, "%s/%s", root, e->d_name) >=
            (int)sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0) {
            ++*skipped;
            cnn_log(CNN_LOG_WARN, "%s: skipped %s: %s", caller, path,
                    errno == ELOOP ? "a symbolic link loop" : strerror(errno));
            continue;
        }
        if (S_ISDIR(st.st_mode) && !strings_add(&found, e->d_name))
            oom = 1;
    }
    closedir(dir);
    const char **order = oom ? NULL
                             : malloc(sizeof *order * (size_t)(found.count + 1));
    if (!order) {
        strings_free(&found);
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to list %s",
                         caller, root);
    }
    for (int64_t i = 0; i < found.count; ++i)
        order[i] = strings_at(&found, i);
    qsort(order, (size_t)found.count, sizeof *order, compare_names);
    for (int64_t i = 0; i < found.count && !oom; ++i)
        oom = !strings_add(names, order[i]);
    free(order);
    strings_free(&found);
    if (oom)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to list %s",
                         caller, root);
    return CNN_OK;
}

/* Appends a sample; 0 when out of memory. */
static int add_sample(image_data *d, int64_t *slots, const char *path,
                      int32_t label)
{
    if (d->paths.count == *slots) {
        int64_t more = *slots ? 2 * *slots : 1024;
        int32_t *bigger = realloc(d->labels, sizeof *bigger * (size_t)more);
        if (!bigger)
            return 0;
        d->labels = bigger;
        *slots = more;
    }
    d->labels[d->paths.count] = label;
    return strings_add(&d->paths, path);
}

cnn_status cnn_dataset_open_images(cnn_dataset **out, const char *dir,
                                   const cnn_image_params *p)
{
    static const char caller[] = "cnn_dataset_open_images";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!dir)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: dir is NULL", caller);
    image_data *d = calloc(1, sizeof *d);
    if (!d)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    cnn_status s = cnn_image_params_resolve(caller, p, 0, &d->params);
    int64_t skipped = 0, ignored = 0, slots = 0;
    if (s == CNN_OK)
        s = list_classes(caller, dir, &d->classes, &skipped);
    if (s == CNN_OK && d->classes.count == 0)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s has no class folders (it should "
                      "hold one folder of images per class)", caller, dir);
    if (s == CNN_OK && d->classes.count > INT32_MAX)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s has too many class folders",
                      caller, dir);
    char path[PATH_MAX];
    for (int64_t k = 0; s == CNN_OK && k < d->classes.count; ++k) {
        const char *name = strings_at(&d->classes, k);
        if (snprintf(path, sizeof path, "%s/%s", dir, name) >=
            (int)sizeof path) {
            s = cnn_error(CNN_ERR_FORMAT, "%s: the path of class %s is too "
                          "long", caller, name);
            break;
        }
        scan sc = {.caller = caller};
        struct stat st;
        if (stat(path, &st) == 0) {
            sc.devs[0] = st.st_dev;
            sc.inos[0] = st.st_ino;
            walk(&sc, path, 0);
        }
        skipped += sc.skipped;
        ignored += sc.ignored;
        found_names *names = NULL;
        if (!sc.oom && sc.count > 0) {
            names = malloc(sizeof *names * (size_t)sc.count);
            sc.oom = names == NULL;
        }
        for (int64_t i = 0; i < sc.count && !sc.oom; ++i)
            names[i] = (found_names){strings_at(&sc.text, sc.files[i].dir),
                                     strings_at(&sc.text, sc.files[i].name)};
        if (!sc.oom && names)
            qsort(names, (size_t)sc.count, sizeof *names, compare_found);
        for (int64_t i = 0; i < sc.count && !sc.oom; ++i) {
            char file[PATH_MAX];
            if (snprintf(file, sizeof file, "%s/%s", names[i].dir,
                         names[i].name) >= (int)sizeof file)
                continue;
            sc.oom = !add_sample(d, &slots, file, (int32_t)k);
        }
        free(names);
        if (sc.oom)
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to list %s",
                          caller, path);
        else if (sc.count == 0)
            s = cnn_error(CNN_ERR_FORMAT, "%s: the class folder %s holds no "
                          "usable .jpg, .jpeg or .png file (remove the folder "
                          "or add images: an empty class is refused, as "
                          "torchvision's ImageFolder refuses it)", caller,
                          path);
        strings_free(&sc.text);
        free(sc.files);
    }
    if (s != CNN_OK) {
        image_destroy(d);
        return s;
    }
    if (ignored)
        cnn_log(CNN_LOG_INFO, "%s: ignored %lld files in %s that are not "
                ".jpg, .jpeg or .png", caller, (long long)ignored, dir);
    int64_t size = d->params.size;
    s = cnn_dataset_make(out, &images_source, d, d->paths.count, 3, size,
                         size, (int)d->classes.count);
    if (s == CNN_OK)
        (*out)->skipped = skipped;
    return s;
}

/* ------------------------------------------------------------ list files */

cnn_status cnn_dataset_open_image_list(cnn_dataset **out,
                                       const char *list_file,
                                       const cnn_image_params *p)
{
    static const char caller[] = "cnn_dataset_open_image_list";
    if (!out)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: out is NULL", caller);
    *out = NULL;
    if (!list_file)
        return cnn_error(CNN_ERR_INVALID_ARGUMENT, "%s: list_file is NULL",
                         caller);
    image_data *d = calloc(1, sizeof *d);
    if (!d)
        return cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory", caller);
    cnn_status s = cnn_image_params_resolve(caller, p, 0, &d->params);
    FILE *f = NULL;
    if (s == CNN_OK) {
        f = fopen(list_file, "r");
        if (!f)
            s = cnn_error(CNN_ERR_IO, "%s: cannot open %s: %s", caller,
                          list_file, strerror(errno));
    }
    /* Relative paths start from the list's folder. */
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", list_file);
    char *slash = strrchr(base, '/');
    if (slash)
        slash[1] = '\0';
    else
        base[0] = '\0';
    int64_t skipped = 0, slots = 0, line_no = 0;
    int32_t max_label = -1;
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t n;
    while (s == CNN_OK && (n = getline(&line, &line_cap, f)) >= 0) {
        ++line_no;
        if (memchr(line, '\0', (size_t)n)) {
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s line %lld holds a NUL byte "
                          "(not a text file?)", caller, list_file,
                          (long long)line_no);
            break;
        }
        while (n > 0 && isspace((unsigned char)line[n - 1]))
            line[--n] = '\0';
        char *start = line;
        while (isspace((unsigned char)*start))
            ++start;
        if (*start == '\0' || *start == '#')
            continue;
        char *last = start + strlen(start);
        while (last > start && !isspace((unsigned char)last[-1]))
            --last;
        char *end = NULL;
        errno = 0;
        long long label = last > start ? strtoll(last, &end, 10) : -1;
        if (last == start || !end || *end != '\0' || errno || label < 0 ||
            label >= INT32_MAX || !isdigit((unsigned char)*last)) {
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s line %lld is not \"path "
                          "label\" with a label in [0, 2^31 - 1)", caller,
                          list_file, (long long)line_no);
            break;
        }
        char *path_end = last;
        while (path_end > start && isspace((unsigned char)path_end[-1]))
            --path_end;
        *path_end = '\0';
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s%s", start[0] == '/' ? "" : base,
                     start) >= (int)sizeof path) {
            s = cnn_error(CNN_ERR_FORMAT, "%s: %s line %lld: the path is too "
                          "long", caller, list_file, (long long)line_no);
            break;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            ++skipped;
            cnn_log(CNN_LOG_WARN, "%s: skipped %s (line %lld): %s", caller,
                    path, (long long)line_no,
                    errno == ELOOP ? "a symbolic link loop" : strerror(errno));
            continue;
        }
        if (!S_ISREG(st.st_mode) || st.st_size == 0) {
            ++skipped;
            cnn_log(CNN_LOG_WARN, "%s: skipped %s (line %lld): %s", caller,
                    path, (long long)line_no,
                    S_ISREG(st.st_mode) ? "an empty file (0 bytes)"
                                        : "not a regular file");
            continue;
        }
        if (!add_sample(d, &slots, path, (int32_t)label))
            s = cnn_error(CNN_ERR_OUT_OF_MEMORY, "%s: no memory to list %s",
                          caller, list_file);
        if (label > max_label)
            max_label = (int32_t)label;
    }
    free(line);
    if (f && s == CNN_OK && ferror(f))
        s = cnn_error(CNN_ERR_IO, "%s: cannot read %s", caller, list_file);
    if (f)
        fclose(f);
    if (s == CNN_OK && d->paths.count == 0)
        s = cnn_error(CNN_ERR_FORMAT, "%s: %s lists no usable file (%lld "
                      "skipped)", caller, list_file, (long long)skipped);
    if (s != CNN_OK) {
        image_destroy(d);
        return s;
    }
    int64_t size = d->params.size;
    s = cnn_dataset_make(out, &images_source, d, d->paths.count, 3, size,
                         size, max_label + 1);
    if (s == CNN_OK)
        (*out)->skipped = skipped;
    return s;
}
