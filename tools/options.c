/* tools/options.c - "--name value" option parsing for the cnn program. */
#include "options.h"

#include <errno.h>
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
            fprintf(out, " (default %lld)", (long long)*(int64_t *)o->value);
            break;
        case OPTION_FLOAT:
            fprintf(out, " (default %g)", *(double *)o->value);
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

int options_parse(const char *command, const char *summary, option *options,
                  int count, int argc, char **argv, int first)
{
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
        char *end = NULL;
        errno = 0;
        switch (o->kind) {
        case OPTION_STRING:
            *(const char **)o->value = text;
            break;
        case OPTION_INT: {
            long long v = strtoll(text, &end, 10);
            if (errno || end == text || *end)
                return usage_error(command, summary, options, count,
                                   "not an integer: ", text);
            *(int64_t *)o->value = v;
            break;
        }
        case OPTION_FLOAT: {
            double v = strtod(text, &end);
            if (errno || end == text || *end || !isfinite(v))
                return usage_error(command, summary, options, count,
                                   "not a number: ", text);
            *(double *)o->value = v;
            break;
        }
        case OPTION_FLAG:
            break;
        }
    }
    return 0;
}
