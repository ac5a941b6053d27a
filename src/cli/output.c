/* output: lines that never wait for a reader (see output.h). */
#include "cli/output.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool cli_output_ready(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n == 1 && (p.revents & POLLOUT) && !(p.revents & (POLLERR | POLLNVAL));
}

bool cli_output_now(FILE *out, const char *text)
{
    int fd = fileno(out);
    if (fd < 0 || !cli_output_ready(fd) || fflush(out) != 0 || !cli_output_ready(fd))
        return false;
    size_t len = strlen(text), done = 0;
    while (done < len) {   /* a short write means the room ran out: drop the rest */
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
        if (done < len && !cli_output_ready(fd))
            return false;
    }
    return true;
}

bool cli_output_reader_gone(int fd)
{
    struct stat st;
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    if (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))
        return false;
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n == 1 && (p.revents & POLLERR);   /* a pipe whose read end is closed */
}
