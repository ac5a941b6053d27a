/* predict.c: classify a grey image with a model written by `scratchnet
 * export --softmax`, through ONNX Runtime's C API.
 *
 *   cc predict.c -I$ORT/include -L$ORT/lib -Wl,-rpath,$ORT/lib -lonnxruntime -o predict
 *   ./predict MODEL.onnx IMAGE.pgm
 *
 * (-rpath: the program finds libonnxruntime.so.1 where it was built
 * against; without it, LD_LIBRARY_PATH=$ORT/lib ./predict ...)  It prints
 * the class index, its probability and the model's class list (a JSON
 * array; predict.js prints the class's name).
 *
 * ($ORT: an ONNX Runtime release, which ships include/onnxruntime_c_api.h
 * and lib/libonnxruntime.so.)  The model takes raw pixels (0..255), as
 * `scratchnet predict` does; the class names are in its metadata under
 * "classes", a JSON array.  IMAGE.pgm: a binary (P5) grey image of the
 * model's input size.
 */
#include <onnxruntime_c_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const OrtApi *ort;

/* Every ONNX Runtime call returns NULL or an error to report. */
static void check(OrtStatus *st)
{
    if (st) {
        fprintf(stderr, "predict: %s\n", ort->GetErrorMessage(st));
        ort->ReleaseStatus(st);
        exit(1);
    }
}

/* Stop the program with one line naming the image. */
static void refuse(const char *path, const char *why)
{
    fprintf(stderr, "predict: %s: %s\n", path, why);
    exit(1);
}

/* One of the blanks netpbm allows between the header's fields. */
static int blank(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A number of the header after blanks and comments: digits only, at most 9 of them
 * (fscanf's %d cuts 4294967297 to 1). */
static int number(FILE *f, long *v)
{
    char d[16];
    int c;
    while (blank(c = fgetc(f)) || c == '#')
        if (c == '#')   /* a comment line, as netpbm writes them (GIMP does) */
            while ((c = fgetc(f)) != '\n' && c != EOF)
                ;
    if (c == EOF || ungetc(c, f) == EOF || fscanf(f, "%15[0-9]", d) != 1 || strlen(d) > 9)
        return 0;
    *v = strtol(d, NULL, 10);
    return 1;
}

/* A binary 8-bit PGM as floats 0..255 (w * h, malloc'd): a regular file
 * (a FIFO or a device would be read without end) whose sides are 1 to
 * 16384, as scratchnet predict takes them, holding exactly the pixels its
 * header promises. */
static float *read_pgm(const char *path, int *w, int *h)
{
    struct stat st;
    if (stat(path, &st) != 0)
        refuse(path, "cannot be read (missing, or no permission)");
    if (!S_ISREG(st.st_mode))
        refuse(path, "not a regular file");
    FILE *f = fopen(path, "rb");
    long maxval = 0, side[2];
    if (!f || fgetc(f) != 'P' || fgetc(f) != '5' || !blank(fgetc(f)) || !number(f, &side[0]) ||
        !number(f, &side[1]) || !number(f, &maxval) || maxval != 255 || !blank(fgetc(f)))
        refuse(path, "not a binary 8-bit PGM (P5) image");
    if (side[0] < 1 || side[1] < 1 || side[0] > 16384 || side[1] > 16384)
        refuse(path, "each side must be 1 to 16384 pixels");
    *w = (int)side[0];
    *h = (int)side[1];
    size_t n = (size_t)*w * (size_t)*h;
    long at = ftell(f);
    if (at < 0 || (unsigned long long)st.st_size != (unsigned long long)at + n)
        refuse(path, "its pixel bytes are not the width x height its header promises");
    unsigned char *px = malloc(n);
    float *x = malloc(n * sizeof *x);
    if (!px || !x || fread(px, 1, n, f) != n)
        refuse(path, "cut short while read");
    for (size_t i = 0; i < n; i++)
        x[i] = px[i];
    free(px);
    fclose(f);
    return x;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: predict MODEL.onnx IMAGE.pgm\n");
        return 2;
    }
    ort = OrtGetApiBase()->GetApi(ORT_API_VERSION);
    OrtEnv *env;
    OrtSessionOptions *opts;
    OrtSession *session;
    check(ort->CreateEnv(ORT_LOGGING_LEVEL_WARNING, "predict", &env));
    check(ort->CreateSessionOptions(&opts));
    check(ort->CreateSession(env, argv[1], opts, &session));

    int w, h;
    float *x = read_pgm(argv[2], &w, &h);
    int64_t shape[4] = { 1, 1, h, w };
    OrtMemoryInfo *cpu;
    OrtValue *input = NULL, *output = NULL;
    check(ort->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &cpu));
    check(ort->CreateTensorWithDataAsOrtValue(cpu, x, (size_t)w * h * sizeof *x, shape, 4,
                                              ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, &input));
    const char *in_names[] = { "input" }, *out_names[] = { "probs" };
    check(ort->Run(session, NULL, in_names, (const OrtValue *const *)&input, 1, out_names, 1,
                   &output));

    float *probs;
    size_t K;
    OrtTensorTypeAndShapeInfo *info;
    check(ort->GetTensorMutableData(output, (void **)&probs));
    check(ort->GetTensorTypeAndShape(output, &info));
    check(ort->GetTensorShapeElementCount(info, &K));
    size_t best = 0;
    float p = probs[0];
    if (K == 1) {   /* one binary output: the probability of class 1 */
        best = probs[0] > 0.5f;
        p = best ? probs[0] : 1.0f - probs[0];
    } else {
        for (size_t k = 1; k < K; k++)
            if (probs[k] > probs[best])
                best = k;
        p = probs[best];
    }

    OrtModelMetadata *meta;
    OrtAllocator *alloc;
    char *classes = NULL;
    check(ort->SessionGetModelMetadata(session, &meta));
    check(ort->GetAllocatorWithDefaultOptions(&alloc));
    check(ort->ModelMetadataLookupCustomMetadataMap(meta, alloc, "classes", &classes));
    printf("class %zu  p = %.4f  (classes: %s)\n", best, p, classes ? classes : "none");

    if (classes)
        check(ort->AllocatorFree(alloc, classes));
    ort->ReleaseModelMetadata(meta);
    ort->ReleaseTensorTypeAndShapeInfo(info);
    ort->ReleaseValue(output);
    ort->ReleaseValue(input);
    ort->ReleaseMemoryInfo(cpu);
    ort->ReleaseSession(session);
    ort->ReleaseSessionOptions(opts);
    ort->ReleaseEnv(env);
    free(x);
    return 0;
}
