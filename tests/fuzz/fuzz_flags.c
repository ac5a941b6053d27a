/* fuzz_flags: libFuzzer target for the command-line parser (cli_parse and
 * the one number parser behind it): the input is split at NUL bytes into
 * argv for an option table with every kind of option; any argv is parsed,
 * refused with one message, or is a request for help (--help or -h where a
 * flag may stand: CLI_HELP), and a value that is accepted lies in its
 * option's range. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    char *argv[66] = { "scratchnet", "train" };
    int argc = 2;
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    for (char *p = buf; argc < 64 && p <= buf + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    const char *model = NULL, *pos[2] = { NULL, NULL };
    long batch = 0, epochs = 0;
    double lr = 0;
    bool quiet = false;
    int n_pos = 0;
    struct cli_opt opts[] = {
        CLI_STR("model", &model), CLI_INT("batch", &batch, 1, 1 << 20),
        CLI_INT("epochs", &epochs, 0, 1 << 20), CLI_FLOAT("lr", &lr, 0, 1e6),
        CLI_FLAG("quiet", &quiet), CLI_STR("o", &model),
    };
    int rc = cli_parse(argc, argv, 2, opts, (int)(sizeof opts / sizeof opts[0]), pos, 2, &n_pos);
    if (rc == SN_OK && (batch < 0 || batch > (1 << 20) || epochs < 0 || epochs > (1 << 20) ||
                        !(lr >= 0 && lr <= 1e6) || n_pos > 2))
        abort();   /* accepted out of range */
    if (rc != SN_OK && rc != CLI_HELP && (rc != SN_EUSAGE || strchr(sn_errmsg(), '\n')))
        abort();   /* not one usage line */
    long v;
    cli_parse_long("--x", buf, -5, 5, &v);
    free(buf);
    return 0;
}
