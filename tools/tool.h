/* tools/tool.h - the cnn program's subcommands. Each takes the arguments
 * after the program name (argv[0] is the subcommand) and returns the exit
 * status: 0 done, 1 failed, 2 usage error. */
#ifndef CNN_TOOLS_TOOL_H
#define CNN_TOOLS_TOOL_H

int cnn_tool_train(int argc, char **argv);
int cnn_tool_eval(int argc, char **argv);
int cnn_tool_summary(int argc, char **argv);

#endif /* CNN_TOOLS_TOOL_H */
