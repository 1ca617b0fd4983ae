// A webhook receiver for the benchmark: answers every POST with 200 after a set delay, on one
// port or many, reading and discarding the body. Once every port listens, prints their numbers on
// one line, space-separated.
//
//	receiver -delay 50ms [-count 200]
//
// One thread, epoll, keep-alive, one request at a time per connection (as both dispatchers send).
// Every answer waits the same delay, so answers fall due in the order their requests ended: one
// FIFO queue and one timerfd hold them all. It replaces receiver.go, which cost 44-45 µs of CPU
// per request here against this one's 14-16: on two cores shared with the dispatcher under test,
// the receiver must not be what sets the pace.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX 16384

struct conn {
    int fd;
    unsigned generation;      // bumped when the descriptor is closed, so stale queue entries are skipped
    int waiting;              // a complete request waits in the queue for its answer
    long body_left;           // body bytes still to discard
    size_t used;
    char head[HEAD_MAX];
};

struct due {
    int64_t at_ns;
    int fd;
    unsigned generation;
};

static struct conn **conns;   // by descriptor
static size_t conns_cap;
static struct due *queue;     // ring buffer
static size_t queue_cap, queue_head, queue_len;
static int epoll_fd, timer_fd;
#define LISTENER (1ULL << 32)
static int64_t delay_ns;
static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n";

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "receiver: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void arm_timer(void) {
    struct itimerspec spec = {0};
    if (queue_len > 0) {
        int64_t at = queue[queue_head].at_ns;
        spec.it_value.tv_sec = at / 1000000000;
        spec.it_value.tv_nsec = at % 1000000000;
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0) spec.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(timer_fd, TFD_TIMER_ABSTIME, &spec, NULL) != 0) die("timerfd_settime");
}

static void push(struct conn *c) {
    if (queue_len == queue_cap) {
        size_t cap = queue_cap ? queue_cap * 2 : 1024;
        struct due *grown = malloc(cap * sizeof *grown);
        if (!grown) die("malloc");
        for (size_t i = 0; i < queue_len; i++) grown[i] = queue[(queue_head + i) % queue_cap];
        free(queue);
        queue = grown;
        queue_cap = cap;
        queue_head = 0;
    }
    queue[(queue_head + queue_len) % queue_cap] = (struct due){now_ns() + delay_ns, c->fd, c->generation};
    queue_len++;
    if (queue_len == 1) arm_timer();
}

static void drop(struct conn *c) {
    epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->generation++;
    c->waiting = 0;
    c->used = 0;
    c->body_left = 0;
}

// Consumes what the buffer holds: body bytes to discard, then at most one request head.
static void parse(struct conn *c) {
    while (!c->waiting && c->used > 0) {
        if (c->body_left > 0) {
            size_t take = (size_t)c->body_left < c->used ? (size_t)c->body_left : c->used;
            memmove(c->head, c->head + take, c->used - take);
            c->used -= take;
            c->body_left -= (long)take;
            if (c->body_left == 0) {
                c->waiting = 1;
                push(c);
            }
            continue;
        }
        char *end = memmem(c->head, c->used, "\r\n\r\n", 4);
        if (!end) {
            if (c->used == HEAD_MAX) drop(c);
            return;
        }
        size_t head_len = (size_t)(end - c->head) + 4;
        long length = 0;
        for (char *line = memchr(c->head, '\n', head_len); line && line < end; line = memchr(line + 1, '\n', (size_t)(end - line))) {
            if (strncasecmp(line + 1, "content-length:", 15) == 0) length = strtol(line + 16, NULL, 10);
            if (strncasecmp(line + 1, "transfer-encoding:", 18) == 0) {
                drop(c);  // both dispatchers send Content-Length
                return;
            }
        }
        if (length < 0) {
            drop(c);
            return;
        }
        memmove(c->head, c->head + head_len, c->used - head_len);
        c->used -= head_len;
        c->body_left = length;
        if (length == 0) {
            c->waiting = 1;
            push(c);
        }
    }
}

static void readable(struct conn *c) {
    for (;;) {
        if (c->used == HEAD_MAX) {
            // A head too long, or more than a buffer sent ahead of an answer: not a client of ours.
            drop(c);
            return;
        }
        ssize_t n = read(c->fd, c->head + c->used, HEAD_MAX - c->used);
        if (n > 0) {
            c->used += (size_t)n;
            parse(c);
            if (c->fd < 0) return;
            continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) drop(c);
        return;
    }
}

static void answer_due(void) {
    int64_t now = now_ns();
    while (queue_len > 0 && queue[queue_head].at_ns <= now) {
        struct due d = queue[queue_head];
        queue_head = (queue_head + 1) % queue_cap;
        queue_len--;
        struct conn *c = (size_t)d.fd < conns_cap ? conns[d.fd] : NULL;
        if (!c || c->generation != d.generation || !c->waiting) continue;
        if (write(c->fd, answer, sizeof answer - 1) != (ssize_t)(sizeof answer - 1)) {
            drop(c);
            continue;
        }
        c->waiting = 0;
        parse(c);
    }
    arm_timer();
}

static void accept_all(int listener) {
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            die("accept4");  // out of descriptors: say so rather than spin on a readable listener
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if ((size_t)fd >= conns_cap) {
            size_t cap = conns_cap;
            while ((size_t)fd >= cap) cap = cap ? cap * 2 : 4096;
            struct conn **grown = realloc(conns, cap * sizeof *grown);
            if (!grown) die("realloc");
            memset(grown + conns_cap, 0, (cap - conns_cap) * sizeof *grown);
            conns = grown;
            conns_cap = cap;
        }
        struct conn *c = conns[fd];
        if (!c) {
            c = calloc(1, sizeof *c);
            if (!c) die("calloc");
            conns[fd] = c;
        }
        unsigned generation = c->generation;
        memset(c, 0, offsetof(struct conn, head));
        c->fd = fd;
        c->generation = generation + 1;
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)fd};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    }
}

int main(int argc, char **argv) {
    long delay_ms = 0, count = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-delay") == 0) {
            char *unit;
            delay_ms = strtol(argv[i + 1], &unit, 10);
            if (unit == argv[i + 1] || (*unit && strcmp(unit, "ms") != 0)) delay_ms = -1;
        }
        else if (strcmp(argv[i], "-count") == 0) count = strtol(argv[i + 1], NULL, 10);
        else {
            fprintf(stderr, "usage: receiver -delay 50ms [-count N]\n");
            return 2;
        }
    }
    if (delay_ms < 0 || count < 1 || count > 10000) {
        fprintf(stderr, "receiver: bad -delay or -count\n");
        return 2;
    }
    delay_ns = delay_ms * 1000000;
    signal(SIGPIPE, SIG_IGN);  // a peer gone before its answer is a dropped connection, not the end
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epoll_fd < 0 || timer_fd < 0) die("epoll or timerfd");
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = (uint64_t)timer_fd};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, timer_fd, &tev) != 0) die("epoll_ctl");
    for (long i = 0; i < count; i++) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof addr;
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 4096) != 0 ||
            getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
            die("listen");
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTENER | (uint64_t)fd};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
        printf("%s%d", i ? " " : "", ntohs(addr.sin_port));
    }
    printf("\n");
    fflush(stdout);
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(epoll_fd, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            uint64_t tag = events[i].data.u64;
            int fd = (int)(tag & 0xffffffff);
            if (tag & LISTENER) {
                accept_all(fd);
            } else if (fd == timer_fd) {
                uint64_t expirations;
                if (read(timer_fd, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("read timerfd");
                answer_due();
            } else if ((size_t)fd < conns_cap && conns[fd]) {
                readable(conns[fd]);
            }
        }
    }
}
