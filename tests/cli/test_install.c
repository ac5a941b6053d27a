/* test_install: make install into a temporary prefix gives a working
 * command, man page, zoo, headers, static and shared libraries and a
 * pkg-config file; every installed header compiles alone; the README's
 * build lines and the examples' own build comments work exactly as written
 * (no LD_LIBRARY_PATH: the rpath from scratchnet.pc finds the library);
 * the examples train through the public trainer API: examples/spiral.c on
 * one rank, examples/train_h5.c on two ranks with checkpoints, resumed by a
 * second start. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void run_as_written(const char *p);

/* A program that loads the installed library with dlopen (a plugin host,
 * an interpreter) and opens a dataset: its main runs once.  The HDF5 check
 * started the host program again, whose main then ran before the check
 * (once per file), or, from Python, failed every file. */
static void dlopen_host(const char *p)
{
    FILE *c = fopen(sn_test_path("host.c"), "w");
    assert_non_null(c);
    fputs("#define _DEFAULT_SOURCE\n#include <dlfcn.h>\n#include <signal.h>\n#include <stdio.h>\n"
          "#include <stdlib.h>\n#include <string.h>\n#include <sys/wait.h>\n#include <unistd.h>\n"
          "static void reap(int sig)\n{\n    (void)sig;\n"
          "    while (waitpid(-1, NULL, WNOHANG) > 0)\n        ;\n}\n"
          "int main(int argc, char **argv)\n{\n"
          "    const char *chld = getenv(\"HOST_SIGCHLD\");\n"
          "    if (chld && !strcmp(chld, \"ignore\"))\n        signal(SIGCHLD, SIG_IGN);\n"
          "    if (chld && !strcmp(chld, \"reap\"))\n        signal(SIGCHLD, reap);\n"
          "    FILE *log = fopen(argv[3], \"a\");\n    fputs(\"main\\n\", log);\n    fclose(log);\n"
          "    void *lib = dlopen(argv[1], RTLD_NOW);\n"
          "    int (*open)(const char *, void **) = lib ? (int (*)(const char *, void **))"
          "dlsym(lib, \"sn_dataset_open\") : NULL;\n"
          "    if (argc == 5 && chdir(argv[4]) != 0)\n        return 2;\n"
          "    void *d = NULL;\n    return argc >= 4 && open && open(argv[2], &d) == 0 ? 0 : 1;\n}\n",
          c);
    fclose(c);
    int rc = sn_test_run("cc -std=c11 %s -ldl -o %s/host && unset LD_LIBRARY_PATH && "
                         "%s/host %s/lib/libscratchnet.so.0 %s %s", sn_test_path("host.c"), p, p, p,
                         sn_test_path("blobs.h5"), sn_test_path("mains.txt"));
    char *mains = sn_test_slurp(sn_test_path("mains.txt"));
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_string_equal(mains, "main\n");
    free(mains);
    /* a host that ignores SIGCHLD, or reaps every child itself (glib,
     * libuv, a server): the check's verdict comes through its errors (every
     * file was refused: "cannot be waited for") */
    static const char *const chld[] = { "ignore", "reap" };
    for (int i = 0; i < 2; i++) {
        rc = sn_test_run("unset LD_LIBRARY_PATH && HOST_SIGCHLD=%s %s/host "
                         "%s/lib/libscratchnet.so.0 %s %s", chld[i], p, p,
                         sn_test_path("blobs.h5"), sn_test_path("chld.txt"));
        if (rc)
            fail_msg("SIGCHLD %s: exit %d: %s", chld[i], rc, sn_test_slurp(sn_test_path("err.txt")));
    }
    /* loaded by a relative name, then the host changes folder to one with
     * a program named scratchnet (and bin/scratchnet) in it: the check is
     * still the installed program's (the stand-ins said "fine" to anything) */
    char evil[1200];
    snprintf(evil, sizeof evil, "%s/evil", p);
    rc = sn_test_run("mkdir -p %s/bin && printf '#!/bin/sh\\ntouch %s/ran\\n' > %s/scratchnet && "
                     "chmod +x %s/scratchnet && cp %s/scratchnet %s/bin/ && cd %s/lib && "
                     "unset LD_LIBRARY_PATH && %s/host ./libscratchnet.so.0 %s %s %s",
                     evil, evil, evil, evil, evil, evil, p, p, sn_test_path("blobs.h5"),
                     sn_test_path("mains.txt"), evil);
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("test -e %s/ran", evil), 1);
    mains = sn_test_slurp(sn_test_path("mains.txt"));
    assert_string_equal(mains, "main\nmain\n");
    free(mains);
}

/* Every file the install promises is there. */
static void installed_files(const char *p)
{
    static const char *const files[] = {
        "bin/scratchnet", "lib/libscratchnet.a", "lib/libscratchnet.so.0", "lib/libscratchnet.so",
        "lib/pkgconfig/scratchnet.pc", "include/scratchnet/scratchnet.h",
        "include/scratchnet/core/model.h", "include/scratchnet/io/weights.h",
        "include/scratchnet/dist/dist.h", "share/man/man1/scratchnet.1",
        "share/scratchnet/models/mlp.cfg", "share/scratchnet/models/cifar_resnet.cfg",
        "share/doc/scratchnet/README.md", "share/doc/scratchnet/docs/RELIABILITY.md",
        "share/doc/scratchnet/datasets/README.md",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", p, files[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            fprintf(stderr, "missing %s\n", path);
        assert_non_null(f);
        fclose(f);
    }
}

/* The installed launch scripts find the installed program without PATH
 * (they said "PREFIX/share/doc/scratchnet/build/scratchnet is not built")
 * and before any other on PATH,
 * and every relative link of the installed guides leads to an installed
 * file. */
static void installed_launch_and_links(const char *p)
{
    int rc = sn_test_run("PATH=/usr/bin:/bin OMPI_ALLOW_RUN_AS_ROOT=1 "
                         "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 "
                         "sh %s/share/doc/scratchnet/launch/local.sh 1 --version", p);
    assert_int_equal(rc, 0);
    char *ver = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(ver, "scratchnet "));
    free(ver);
    /* and their own, not another scratchnet first on PATH (a site's other
     * version, a user's own build), also through a link to a script */
    const char *fake = sn_test_path("fakebin");
    rc = sn_test_run("mkdir -p %s && printf '#!/bin/sh\\necho FAKE\\n' > %s/scratchnet && "
                     "chmod +x %s/scratchnet && echo 'localhost slots=1' > %s/hosts && "
                     "export PATH=%s:/usr/bin:/bin OMPI_ALLOW_RUN_AS_ROOT=1 "
                     "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 && "
                     "sh %s/share/doc/scratchnet/launch/local.sh 1 --version && "
                     "bash %s/share/doc/scratchnet/launch/cluster.sh %s/hosts --version && "
                     "ln -sf %s/share/doc/scratchnet/launch/local.sh %s/local.sh && "
                     "sh %s/local.sh 1 --version",
                     fake, fake, fake, fake, fake, p, p, fake, p, fake, fake);
    assert_int_equal(rc, 0);
    ver = sn_test_slurp(sn_test_path("out.txt"));
    assert_null(strstr(ver, "FAKE"));
    assert_non_null(strstr(ver, "scratchnet "));
    free(ver);
    /* slurm.sbatch, which sbatch runs as a copy from its spool, names the
     * installed binary itself (it asked for one in the working folder) */
    rc = sn_test_run("cd %s && cp %s/share/doc/scratchnet/launch/slurm.sbatch spool.sh && "
                     "MODEL=nowhere.cfg DATA=nowhere.h5 bash spool.sh", fake, p);
    char *err = sn_test_slurp(sn_test_path("err.txt"));
    if (rc == 0 || strstr(err, "no such program") || !strstr(err, "nowhere"))
        fail_msg("installed slurm.sbatch: exit %d: %s", rc, err);
    free(err);
    /* and its default model is the installed zoo's */
    rc = sn_test_run("grep -qxF 'MODEL=${MODEL:-%s/share/scratchnet/models/mlp.cfg}' "
                     "%s/share/doc/scratchnet/launch/slurm.sbatch && "
                     "test -f %s/share/scratchnet/models/mlp.cfg", p, p, p);
    assert_int_equal(rc, 0);
    /* the PyTorch interop tools the README's commands run */
    rc = sn_test_run("cd %s/share/doc/scratchnet/tools && test -f h5_to_torch.py && "
                     "test -f torch_to_h5.py && test -f scratchnet_torch.py", p);
    assert_int_equal(rc, 0);
    /* every relative link of the installed guides leads to an installed file */
    rc = sn_test_run("cd %s/share/doc/scratchnet && for f in $(find . -name '*.md'); do "
                     "grep -o '](\\([^)#]*\\)' \"$f\" | sed 's/^](//' | "
                     "grep -v '^https\\?:\\|^mailto:\\|^$' | while read -r l; do "
                     "[ -e \"$(dirname \"$f\")/$l\" ] || echo \"$f -> $l\"; done; done | "
                     "tee /dev/stderr | grep -q . && exit 1 || exit 0", p);
    if (rc)
        fprintf(stderr, "links to missing files:\n%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
}

/* By its bare name from PATH, as the man page's example runs it, in a
 * folder of its own: the HDF5 probe must find the program (it looked for
 * ./scratchnet and refused every file); the installed model zoo. */
static void installed_by_bare_name(const char *p)
{
    int rc;
    sn_test_write_blobs(sn_test_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    FILE *mcfg = fopen(sn_test_path("m.cfg"), "w");
    assert_non_null(mcfg);
    fputs("[net]\ninput = 8\nbatch = 24\noptimizer = sgd\nlr = 0.05\n[dense]\nunits = 3\n", mcfg);
    fclose(mcfg);
    rc = sn_test_run("cd %s && PATH=%s/bin:$PATH && scratchnet train --model m.cfg --data blobs.h5 "
                     "--steps 1 --quiet --threads 1 --out w.h5 && scratchnet info --weights w.h5",
                     sn_test_tmpdir(), p);
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    rc = sn_test_run("%s/bin/scratchnet info --model %s/share/scratchnet/models/lenet5.cfg", p, p);
    assert_int_equal(rc, 0);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "61706 learnt"));   /* LeNet-5's parameter count */
    free(out);
}

/* make refuses a PREFIX it cannot quote for the shell, an empty one, and a
 * DESTDIR that reads as an option, before anything runs. */
static void install_refusals(void)
{
    int rc;
    /* a PREFIX make cannot quote for the shell is refused before anything
     * runs (a space made two folders, one in the source tree; ';' ran a
     * command) */
    rc = sn_test_run("make -n install 'PREFIX=%s/a b' 2>&1 | grep -q 'must not hold spaces' && "
                     "make -n install 'PREFIX=%s/p;touch${IFS}%s/pwned' 2>&1 | "
                     "grep -q 'may hold letters, digits' && ! test -e %s/pwned",
                     sn_test_tmpdir(), sn_test_tmpdir(), sn_test_tmpdir(), sn_test_tmpdir());
    assert_int_equal(rc, 0);
    /* an empty PREFIX, and a DESTDIR install would read as an option */
    rc = sn_test_run("make -n install PREFIX= 2>&1 | grep -q 'PREFIX is empty' && "
                     "make -n install DESTDIR=-v PREFIX=%s/p 2>&1 | grep -q \"DESTDIR '-v' "
                     "starts with -\"", sn_test_tmpdir());
    assert_int_equal(rc, 0);
    /* make expands a $ before a check could see it: $(shell ...) ran */
    rc = sn_test_run("make -n install 'PREFIX=%s/p$(shell touch %s/pwned2)' 2>&1 | "
                     "grep -q 'may hold letters, digits' && ! test -e %s/pwned2",
                     sn_test_tmpdir(), sn_test_tmpdir(), sn_test_tmpdir());
    assert_int_equal(rc, 0);
    /* README's `make` builds the command: the default goal is `all`, not
     * whichever rule the Makefile happens to list first */
    rc = sn_test_run("make -pq -f Makefile 2>/dev/null | grep -qx '.DEFAULT_GOAL := all'");
    assert_int_equal(rc, 0);
}

/* The man page reads, pkg-config gives the library. */
static void installed_man_and_pkgconfig(const char *p)
{
    int rc;
    char *out;
    rc = sn_test_run("man -l %s/share/man/man1/scratchnet.1 | grep -q 'scratchnet train'", p);
    assert_int_equal(rc, 0);
    rc = sn_test_run("PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags --libs scratchnet", p);
    assert_int_equal(rc, 0);
    out = sn_test_slurp(sn_test_path("out.txt"));
    assert_non_null(strstr(out, "-lscratchnet"));
    free(out);
}

/* Every installed header compiles on its own with only pkg-config's flags
 * (none includes a file the install does not ship), and from C++. */
static void installed_headers_compile(const char *p)
{
    int rc;
    char *out;
    rc = sn_test_run("cd %s/include/scratchnet && for h in $(find . -name '*.h'); do "
                     "echo \"#include \\\"$h\\\"\" > %s/h.c && cc -std=c11 -fsyntax-only "
                     "$(PKG_CONFIG_PATH=%s/lib/pkgconfig pkg-config --cflags scratchnet) "
                     "%s/h.c || { echo \"$h\"; exit 1; }; done", p, p, p, p);
    if (rc)
        fprintf(stderr, "%s\n%s\n", sn_test_slurp(sn_test_path("out.txt")),
                sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    /* and from C++: the declarations are extern "C" (a mangled name would
     * not link) and compile as C++11 */
    FILE *cpp = fopen(sn_test_path("use.cpp"), "w");
    assert_non_null(cpp);
    fputs("#include <scratchnet.h>\n#include <cstdio>\nint main()\n{\n    struct sn_rng r;\n"
          "    sn_rng_seed(&r, 1, 2);\n    std::printf(\"%s %.3f\\n\", sn_strstatus(SN_EINVAL), "
          "sn_rng_normal(&r));\n"
          /* every layer kind from the one include: linked, not only declared */
          "    typedef void (*fn)();\n"
          "    fn volatile kinds[] = { (fn)&sn_conv_create, (fn)&sn_lstm_create, (fn)&sn_gru_create,\n"
          "                            (fn)&sn_batchnorm_create, (fn)&sn_concat_create };\n"
          "    return kinds[4] == 0;\n}\n", cpp);
    fclose(cpp);
    rc = sn_test_run("g++ -std=c++11 -Wall -Werror %s $(PKG_CONFIG_PATH=%s/lib/pkgconfig "
                     "pkg-config --cflags --libs scratchnet) -o %s/use_cpp && "
                     "unset LD_LIBRARY_PATH && %s/use_cpp", sn_test_path("use.cpp"), p, p, p);
    out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "invalid input "));
    free(out);
}

/* examples/train_h5.c built against the install, on two ranks: three
 * epochs with a checkpoint each, then a second start resumes from the
 * newest and has nothing left to do. */
static void installed_train_h5(const char *p)
{
    int rc;
    char *out;
    sn_test_write_blobs(sn_test_path("blobs.h5"), (struct sn_test_blobs){ 0 });
    FILE *cfg = fopen(sn_test_path("m.cfg"), "w");
    assert_non_null(cfg);
    fputs("[net]\ninput = 8\nbatch = 24\nepochs = 3\noptimizer = sgd\nlr = 0.05\n"
          "momentum = 0.9\n[dense]\nunits = 16\nactivation = relu\n[dense]\nunits = 3\n", cfg);
    fclose(cfg);
    const char *mp = getenv("SN_MPIRUN") ? getenv("SN_MPIRUN") : "mpirun --oversubscribe";
    rc = sn_test_run("cc -std=c11 -O2 examples/train_h5.c $(PKG_CONFIG_PATH=%s/lib/pkgconfig "
                     "pkg-config --cflags --libs scratchnet) -lm -o %s/train_h5 && unset LD_LIBRARY_PATH && "
                     "OMP_NUM_THREADS=1 timeout 120 %s -np 2 %s/train_h5 "
                     "%s %s %s/ck %s/w.h5", p, p, mp, p, sn_test_path("m.cfg"),
                     sn_test_path("blobs.h5"), p, p);
    out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "epoch 3  train loss"));
    free(out);
    rc = sn_test_run("ls %s/ck/ckpt-00000060.h5 %s/w.h5 && unset LD_LIBRARY_PATH && "
                     "OMP_NUM_THREADS=1 timeout 120 %s -np 2 %s/train_h5 %s %s %s/ck", p, p, mp, p,
                     sn_test_path("m.cfg"), sn_test_path("blobs.h5"), p);
    out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s\n%s\n", out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "resumed from"));
    assert_null(strstr(out, "epoch 1 "));
    free(out);
}

/* make uninstall leaves none of the files make install made (listed in
 * installed.txt right after it), and a file of the user's in a shared
 * folder stays. */
static void uninstalled(const char *p)
{
    int rc = sn_test_run("touch %s/bin/mine && make --no-print-directory uninstall PREFIX=%s "
                         "> /dev/null && test -f %s/bin/mine && while read -r f; do "
                         "if [ -e \"$f\" ] || [ -L \"$f\" ]; then echo \"$f\"; fi; done < %s",
                         p, p, p, sn_test_path("installed.txt"));
    char *left = sn_test_slurp(sn_test_path("out.txt"));
    if (rc || left[0])
        fail_msg("left after make uninstall (exit %d):\n%s", rc, left);
    free(left);
}

static void test_install_prefix(void **state)
{
    (void)state;
    char p[1024];   /* sn_test_path's buffers are reused */
    snprintf(p, sizeof p, "%s", sn_test_path("prefix"));
    /* the same build settings as the suite (make passes them in MAKEFLAGS);
     * under a root's hardened umask, every file readable by all (round 70
     * F6: scratchnet.pc was 600, and no other user found the library) */
    int rc = sn_test_run("umask 077 && make --no-print-directory install PREFIX=%s", p);
    if (rc)
        fprintf(stderr, "%s\n", sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    assert_int_equal(sn_test_run("test -z \"$(find %s ! -perm -o=r)\"", p), 0);
    assert_int_equal(sn_test_run("find %s -type f -o -type l > %s", p,
                                 sn_test_path("installed.txt")), 0);
    installed_files(p);
    installed_launch_and_links(p);
    installed_by_bare_name(p);
    install_refusals();
    installed_man_and_pkgconfig(p);
    if (getenv("SN_SANITIZE")) {   /* a sanitised library wants its runtime first */
        print_message("skipping the example program in a sanitizer build\n");
        return;
    }
    installed_headers_compile(p);
    run_as_written(p);
    installed_train_h5(p);
    dlopen_host(p);
    uninstalled(p);
}

/* Run cmd (a build line as a user copies it) in folder dir of the prefix
 * p, with pkg-config pointed at p (as the README says for a prefix of
 * one's own) and no LD_LIBRARY_PATH; returns its output. */
static char *run_line(const char *p, const char *dir, const char *cmd)
{
    int rc = sn_test_run("cd %s/%s && unset LD_LIBRARY_PATH && export PKG_CONFIG_PATH=%s/lib/pkgconfig "
                         "&& %s", p, dir, p, cmd);
    char *out = sn_test_slurp(sn_test_path("out.txt"));
    if (rc)
        fprintf(stderr, "%s: %s\n%s\n%s\n", dir, cmd, out, sn_test_slurp(sn_test_path("err.txt")));
    assert_int_equal(rc, 0);
    return out;
}

/* Every README line "cc examples/..." run exactly as written in a folder
 * holding a copy of examples/ and a build/ folder (a source tree after
 * make), and the build line in the header comment of each example it
 * names (" *   cc examples/NAME.c ..."), run the same way in another such
 * folder, then the program: they must link and find the shared library. */
static void run_as_written(const char *p)
{
    assert_int_equal(sn_test_run("rm -rf %s/readme %s/own && mkdir -p %s/readme/build "
                                 "%s/own/build %s/own/examples && cp -r examples %s/readme/ && "
                                 "cp examples/*.c %s/own/examples/", p, p, p, p, p, p, p), 0);
    char *readme = sn_test_slurp("README.md");
    assert_non_null(readme);
    int n = 0;
    for (char *line = strstr(readme, "\ncc examples/"); line; line = strstr(line, "\ncc examples/")) {
        line++;
        char *end = strchr(line, '\n');
        *end = '\0';
        char src[256] = "";
        assert_int_equal(sscanf(line, "cc examples/%255s", src), 1);
        print_message("README: %s\n", line);
        char *out = run_line(p, "readme", line);
        if (strstr(line, "&& build/spiral"))
            assert_non_null(strstr(out, "step 1500"));
        free(out);
        /* the example's own comment, and the program it builds */
        char path[300], bin[1400];
        snprintf(path, sizeof path, "examples/%s", src);
        char *text = sn_test_slurp(path), *cmt = text ? strstr(text, " *   cc ") : NULL;
        assert_non_null(cmt);
        cmt += strlen(" *   ");
        *strchr(cmt, '\n') = '\0';
        print_message("%s: %s\n", path, cmt);
        free(run_line(p, "own", cmt));
        snprintf(bin, sizeof bin, "ldd build/%.*s | grep -q '%s/lib/libscratchnet.so.0'",
                 (int)(strlen(src) - 2), src, p);
        free(run_line(p, "own", bin));   /* the installed library, through the rpath */
        free(text);
        *end = '\n';
        line = end;
        n++;
    }
    assert_true(n >= 1);
    free(readme);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_install_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
