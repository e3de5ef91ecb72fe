/* tools/options.c - "--name value" option parsing for the cnn program. */
#include "options.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void options_usage(FILE *out, const char *command, const char *summary,
                   const option *options, int count)
{
    fprintf(out, "usage: cnn %s [options]\n%s\n\noptions:\n", command, summary);
    for (int i = 0; i < count; ++i) {
        const option *o = &options[i];
        char line[64];
        snprintf(line, sizeof line, "--%s%s", o->name,
                 o->kind == OPTION_STRING  ? " TEXT"
                 : o->kind == OPTION_INT   ? " N"
                 : o->kind == OPTION_FLOAT ? " X"
                                           : "");
        fprintf(out, "  %-22s %s", line, o->help);
        switch (o->kind) {
        case OPTION_STRING:
            if (*(const char **)o->value)
                fprintf(out, " (default %s)", *(const char **)o->value);
            break;
        case OPTION_INT:
            fprintf(out, " (default %lld, %lld to %lld)",
                    (long long)*(int64_t *)o->value, (long long)o->min,
                    (long long)o->max);
            break;
        case OPTION_FLOAT:
            fprintf(out, " (default %g, %s%g to %g)", *(double *)o->value,
                    o->low_open ? "above " : "", o->low, o->high);
            break;
        case OPTION_FLAG:
            break;
        }
        fputc('\n', out);
    }
}

static int usage_error(const char *command, const char *summary,
                       const option *options, int count, const char *what,
                       const char *arg)
{
    fprintf(stderr, "cnn %s: %s%s\n\n", command, what, arg ? arg : "");
    options_usage(stderr, command, summary, options, count);
    return 2;
}

/* Prints "cnn COMMAND: --NAME must be ... in RANGE (got TEXT)". */
static void range_error(const char *command, const option *o,
                        const char *text)
{
    if (o->kind == OPTION_INT)
        fprintf(stderr, "cnn %s: --%s must be an integer in [%lld, %lld] "
                "(got %s)\n", command, o->name, (long long)o->min,
                (long long)o->max, text);
    else
        fprintf(stderr, "cnn %s: --%s must be a number in %c%g, %g] (got "
                "%s)\n", command, o->name, o->low_open ? '(' : '[', o->low,
                o->high, text);
}

/* Parses one number into *o's value; 0 when it does not parse or is out
 * of range (the message printed). */
static int parse_number(const char *command, const option *o,
                        const char *text)
{
    char *end = NULL;
    errno = 0;
    if (o->kind == OPTION_INT) {
        long long v = strtoll(text, &end, 10);
        bool parsed = !errno && end != text && !*end;
        if (!parsed || v < o->min || v > o->max) {
            range_error(command, o, text);
            return 0;
        }
        *(int64_t *)o->value = v;
        return 1;
    }
    double v = strtod(text, &end);
    bool parsed = !errno && end != text && !*end && isfinite(v);
    if (!parsed || v < o->low || v > o->high ||
        (o->low_open && v == o->low)) {
        range_error(command, o, text);
        return 0;
    }
    *(double *)o->value = v;
    return 1;
}

int option_int(const char *command, const char *name, const char *text,
               int64_t min, int64_t max, int64_t *out)
{
    option o = {name, OPTION_INT, out, "", .min = min, .max = max};
    return parse_number(command, &o, text);
}

int option_float(const char *command, const char *name, const char *text,
                 double low, double high, double *out)
{
    option o = {name, OPTION_FLOAT, out, "", .low = low, .high = high};
    return parse_number(command, &o, text);
}

int options_parse(const char *command, const char *summary, option *options,
                  int count, int argc, char **argv, int first)
{
    for (int k = 0; k < count; ++k) {
        const option *o = &options[k];
        if ((o->kind == OPTION_INT && !(o->min < o->max)) ||
            (o->kind == OPTION_FLOAT && !(o->low < o->high))) {
            fprintf(stderr, "cnn %s: option --%s declares no range (a bug "
                    "in cnn: every number option needs one)\n", command,
                    o->name);
            return 2;
        }
    }
    for (int i = first; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            options_usage(stdout, command, summary, options, count);
            return 1;
        }
        if (strncmp(arg, "--", 2) != 0)
            return usage_error(command, summary, options, count,
                               "unexpected argument ", arg);
        option *o = NULL;
        for (int k = 0; k < count && !o; ++k)
            if (strcmp(arg + 2, options[k].name) == 0)
                o = &options[k];
        if (!o)
            return usage_error(command, summary, options, count,
                               "unknown option ", arg);
        if (o->kind == OPTION_FLAG) {
            *(int *)o->value = 1;
            continue;
        }
        if (i + 1 >= argc)
            return usage_error(command, summary, options, count,
                               "missing value for ", arg);
        const char *text = argv[++i];
        switch (o->kind) {
        case OPTION_STRING: {
            size_t length = strlen(text);
            if (length > OPTION_TEXT_MAX) {
                fprintf(stderr, "cnn %s: the value of --%s is %zu bytes long "
                        "but at most %d are accepted\n\n", command, o->name,
                        length, OPTION_TEXT_MAX);
                options_usage(stderr, command, summary, options, count);
                return 2;
            }
            *(const char **)o->value = text;
            break;
        }
        case OPTION_INT:
        case OPTION_FLOAT:
            if (!parse_number(command, o, text)) {
                fputc('\n', stderr);
                options_usage(stderr, command, summary, options, count);
                return 2;
            }
            break;
        case OPTION_FLAG:
            break;
        }
    }
    return 0;
}
