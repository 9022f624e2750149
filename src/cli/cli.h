#ifndef AIRLOCK_CLI_H
#define AIRLOCK_CLI_H
#include "airlock.h"

int cmd_run(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_gateway(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_breaker(int argc, char **argv);

/* Print "airlock: <message>" (every line of it) and return the exit code. */
int cli_fail(const al_error *err);
#endif
