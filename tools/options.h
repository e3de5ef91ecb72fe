/* tools/options.h - "--name value" command-line options for the cnn
 * program's subcommands: every option is declared with its type, default,
 * help line and, for numbers, the range it accepts; unknown options,
 * missing values, values that do not parse, numbers out of their range and
 * text longer than OPTION_TEXT_MAX bytes are usage errors (exit status 2)
 * with a message that names the option (and the range). */
#ifndef CNN_TOOLS_OPTIONS_H
#define CNN_TOOLS_OPTIONS_H

#include <stdint.h>
#include <stdio.h>

typedef enum option_kind {
    OPTION_STRING,
    OPTION_INT,
    OPTION_FLOAT,
    OPTION_FLAG /* no value: present or not */
} option_kind;

/* The longest text (a path, a name) an option takes, in bytes. */
#define OPTION_TEXT_MAX 2047

typedef struct option {
    const char *name; /* without the dashes */
    option_kind kind;
    void *value;      /* const char **, int64_t *, double *, int * */
    const char *help;
    /* OPTION_INT: the accepted values, min to max (min < max). */
    int64_t min, max;
    /* OPTION_FLOAT: low to high (low < high), low itself excluded when
     * low_open is set ("must be above 0"). */
    double low, high;
    int low_open;
} option;

/* Parses argv[first..argc) into the options' values (which hold their
 * defaults on entry). Returns 0, or 2 after printing what was wrong and
 * the usage to stderr. "--help" prints the usage to stdout and returns 1.
 * A numeric option declared without a range is refused as a bug (2). */
int options_parse(const char *command, const char *summary, option *options,
                  int count, int argc, char **argv, int first);

/* Parses `text` as the value of option --name in [min, max]: 1 and *out,
 * or 0 after printing "cnn COMMAND: --NAME must be an integer in [min,
 * max] (got TEXT)" to stderr. For the programs that parse their own
 * options (cnn bench). */
int option_int(const char *command, const char *name, const char *text,
               int64_t min, int64_t max, int64_t *out);
/* The same for a number in [low, high]. */
int option_float(const char *command, const char *name, const char *text,
                 double low, double high, double *out);

/* Prints the options' usage. */
void options_usage(FILE *out, const char *command, const char *summary,
                   const option *options, int count);

#endif /* CNN_TOOLS_OPTIONS_H */
