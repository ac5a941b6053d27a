/* params_close: are the parameters of two weights files (or checkpoints)
 * of one model the same within a relative tolerance?
 *
 *   params_close A.h5 B.h5 RTOL
 *
 * Prints the largest difference |a - b| / max(|a|, |b|, s) over every
 * parameter, where s is the mean |a| over the whole model (so values near
 * zero are measured against the model's scale, not their own), and how
 * many parameters differ at all.  Exit 0 when it is <= RTOL, 1 when not,
 * 2 when a file cannot be read or the models differ.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "core/model.h"
#include "core/status.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: params_close A.h5 B.h5 RTOL\n");
        return 2;
    }
    struct sn_netcfg na, nb;
    struct sn_model *a = NULL, *b = NULL;
    int rc = cli_load_weights(argv[1], NULL, 1, &na, &a, NULL);
    if (!rc)
        rc = cli_load_weights(argv[2], NULL, 1, &nb, &b, NULL);
    if (!rc && a->n_params != b->n_params)
        rc = sn_fail(SN_ESHAPE, "%zu parameters against %zu", a->n_params, b->n_params);
    if (rc) {
        fprintf(stderr, "params_close: %s\n", sn_errmsg());
        sn_model_destroy(a);
        sn_model_destroy(b);
        return 2;
    }
    const size_t n = a->n_params;
    double scale = 0, worst = 0;
    size_t differ = 0, at = 0;
    for (size_t i = 0; i < n; i++)
        scale += fabs(a->params[i]);
    scale /= (double)n;
    for (size_t i = 0; i < n; i++) {
        double x = a->params[i], y = b->params[i];
        double m = fmax(fmax(fabs(x), fabs(y)), scale);
        double d = fabs(x - y) / m;
        differ += x != y;
        if (d > worst) {
            worst = d;
            at = i;
        }
    }
    double tol = atof(argv[3]);
    printf("%zu of %zu parameters differ; largest relative difference %.3g (parameter %zu: "
           "%.9g against %.9g), tolerance %g\n", differ, n, worst, at, (double)a->params[at],
           (double)b->params[at], tol);
    sn_model_destroy(a);
    sn_model_destroy(b);
    return worst <= tol ? 0 : 1;
}
