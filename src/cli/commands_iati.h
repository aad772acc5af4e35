/*
 * commands_iati.h — `concord import iati` and `concord export iati`, rows of
 * the command table in commands.c (see commands_iati.c).
 */
#ifndef CONCORD_CLI_COMMANDS_IATI_H
#define CONCORD_CLI_COMMANDS_IATI_H

#include "cli/cli.h"

/* The environment variable that names the IATI 2.03 activities schema, when --schema does not. */
#define CLI_IATI_SCHEMA_ENV "CONCORD_IATI_SCHEMA"

int cmd_import_iati(struct cli *cli, int argc, char **argv);
int cmd_export_iati(struct cli *cli, int argc, char **argv);

#endif
