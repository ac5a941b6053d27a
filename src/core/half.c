/* half: 16-bit float names and the error-feedback loops (see half.h). */
#include "core/half.h"

#include <string.h>

#include "core/status.h"

int sn_half_parse(const char *name, enum sn_half *out)
{
    if (strcmp(name, "none") == 0)
        *out = SN_HALF_NONE;
    else if (strcmp(name, "bf16") == 0)
        *out = SN_HALF_BF16;
    else if (strcmp(name, "fp16") == 0)
        *out = SN_HALF_FP16;
    else
        return sn_fail(SN_EUSAGE, "'%s' is not a 16-bit format (none, bf16 or fp16)", name);
    return SN_OK;
}

const char *sn_half_name(enum sn_half k)
{
    return k == SN_HALF_BF16 ? "bf16" : k == SN_HALF_FP16 ? "fp16" : "none";
}

void sn_half_compress(enum sn_half k, const float *x, float *resid, uint16_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float v = resid ? x[i] + resid[i] : x[i];
        out[i] = sn_half_from_f32(k, v);
        if (resid)
            resid[i] = v - sn_half_to_f32(k, out[i]);
    }
}

void sn_half_expand(enum sn_half k, const uint16_t *in, float *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = sn_half_to_f32(k, in[i]);
}
