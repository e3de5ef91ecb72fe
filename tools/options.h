/* tools/options.h - "--name value" command-line options for the cnn
 * program's subcommands: every option is declared with its type, default
 * and help line; unknown options, missing values and values that do not
 * parse are usage errors (exit status 2) with a message. */
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

typedef struct option {
    const char *name; /* without the dashes */
    option_kind kind;
    void *value;      /* const char **, int64_t *, double *, int * */
    const char *help;
} option;

/* Parses argv[first..argc) into the options' values (which hold their
 * defaults on entry). Returns 0, or 2 after printing what was wrong and
 * the usage to stderr. "--help" prints the usage to stdout and returns 1. */
int options_parse(const char *command, const char *summary, option *options,
                  int count, int argc, char **argv, int first);

/* Prints the options' usage. */
void options_usage(FILE *out, const char *command, const char *summary,
                   const option *options, int count);

#endif /* CNN_TOOLS_OPTIONS_H */
