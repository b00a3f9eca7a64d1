/*
 * Load generator for Torsion's benchmarks (bench/run.ts builds and drives it).
 *
 * Why C: on a 2-core machine a Node client saturates its core before a Node
 * server does, so a Node client would measure itself. One epoll thread here
 * costs a small fraction of what the server spends per round trip.
 *
 * Two modes, both connecting to 127.0.0.1 only (or, with -u PATH instead of
 * -p PORT, to the UNIX-domain socket PATH) and both stopping by themselves:
 *
 *   echo-client -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECONDS] [-n TRIPS] [-b]
 *     Ping-pong: each connection sends SIZE bytes, waits for all SIZE bytes to
 *     come back (and checks them), then sends again. After WARMUP_S seconds of
 *     uncounted traffic it counts completed round trips for SECONDS seconds
 *     (or until TRIPS round trips, whichever is first) and prints one JSON line:
 *     {"mode":"echo","connections":..,"size":..,"seconds":..,"round_trips":..,"rate":..,
 *      "client_cpu":..}
 *     where client_cpu is the client's own CPU time over the wall time measured
 *     (well below 1.0 shows the client was not the bottleneck).
 *     -b busy-polls (epoll_wait with a zero timeout) so the client never sleeps:
 *     on a quiet machine with a slow cross-core wakeup (some VMs) that takes the
 *     client's wakeup latency out of every round trip; client_cpu is then ~1.0
 *     by construction.
 *
 *     -L makes the message pipelined lines for a line echo: every 64 bytes end
 *     in CRLF (SIZE a multiple of 64); a round trip is then SIZE/64 lines.
 *
 *   echo-client -p PORT -i [-c CONNS] [-t TIMEOUT_S]
 *     Idle: opens CONNS connections (at most 256 connecting at a time), prints
 *     {"mode":"idle","connected":N} once all are established, then holds them
 *     until stdin has a line or reaches EOF (or TIMEOUT_S passes), closes them
 *     and exits.
 *
 *   echo-client -p PORT -B [-c CONNS] [-t TIMEOUT_S]
 *     Burst: starts CONNS non-blocking connects at once (no pacing), then each
 *     sends one byte and waits for it to come back. Prints
 *     {"mode":"burst","connections":N,"connected_s":..,"served_s":..,"client_cpu":..}
 *     where connected_s is the time until the last connect completed and
 *     served_s the time until the last echo byte arrived (every connection
 *     was accepted and served), both from the first connect. A listen backlog
 *     that overflows shows as about one second (a SYN retransmit).
 *
 *   echo-client -p PORT -R [-c COUNT] [-t TIMEOUT_S]
 *     Connect-then-reset loop: COUNT times, a blocking connect and at once a
 *     close with SO_LINGER 0 (RST), never waiting for the server. Prints
 *     {"mode":"reset","connections":N,"seconds":..,"worst_connect_s":..,"client_cpu":..}.
 *
 * Exit status: 0 on success, 1 on any socket error, 2 on bad arguments.
 * Build: gcc -O2 -o bench/bin/echo-client bench/echo-client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>

#define MAX_EVENTS 256
#define MAX_CONNECTING 256

struct conn {
  int fd;
  size_t sent;     /* bytes of the current message written so far */
  size_t received; /* bytes of the current echo read so far */
  int connected;
};

static unsigned char *message;
/* -L: acknowledge every read at once (TCP_QUICKACK). */
static int quick_ack = 0;
static unsigned char *scratch;
static size_t msg_size = 1024;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "echo-client: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* 10,000 idle connections need more descriptors than the usual soft limit. */
static void raise_fd_limit(long wanted) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) die("getrlimit");
  if ((long)rl.rlim_cur >= wanted) return;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) != 0) die("setrlimit");
  if ((long)rl.rlim_cur < wanted) {
    fprintf(stderr, "echo-client: need %ld file descriptors, hard limit is %ld\n", wanted,
            (long)rl.rlim_max);
    exit(1);
  }
}

/* -u PATH: connect to this UNIX-domain socket instead of 127.0.0.1:PORT. */
static const char *unix_path = NULL;

static int open_unix_socket(int *in_progress) {
  struct sockaddr_un addr;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  memcpy(addr.sun_path, unix_path, strlen(unix_path));
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
    *in_progress = 0;
  } else {
    /* Never in progress: a UNIX connect is accepted into the backlog at once,
     * and a full backlog (EAGAIN) is a failure, not a wait. */
    die("connect");
  }
  return fd;
}

static int open_socket(int port, int *in_progress) {
  if (unix_path != NULL) return open_unix_socket(in_progress);
  struct sockaddr_in addr;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  /* Servers under test keep Node's default (no Nagle for ping-pong either way:
   * one write per message), the client must not add its own delay. */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0) {
    *in_progress = 0;
  } else if (errno == EINPROGRESS) {
    *in_progress = 1;
  } else {
    die("connect");
  }
  return fd;
}

static void check_connected(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) die("getsockopt");
  if (err != 0) {
    errno = err;
    die("connect");
  }
}

/* Writes what is left of the current message; returns 1 when all of it is out. */
static int send_rest(struct conn *c) {
  while (c->sent < msg_size) {
    ssize_t n = send(c->fd, message + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      die("send");
    }
    c->sent += (size_t)n;
  }
  return 1;
}

/* Reads what is available of the echo; returns 1 when the whole message is back. */
static int recv_rest(struct conn *c) {
  while (c->received < msg_size) {
    ssize_t n = recv(c->fd, scratch + c->received, msg_size - c->received, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      die("recv");
    }
    if (n == 0) {
      fprintf(stderr, "echo-client: server closed a connection\n");
      exit(1);
    }
    c->received += (size_t)n;
    /* A line echo answers in many small writes, which Nagle holds back until
     * the previous segment is acknowledged; acknowledge at once instead of
     * after the delayed-ACK timer, or every batch waits for it. */
    if (quick_ack) setsockopt(c->fd, IPPROTO_TCP, TCP_QUICKACK, &quick_ack, sizeof quick_ack);
  }
  if (memcmp(scratch, message, msg_size) != 0) {
    fprintf(stderr, "echo-client: echo differs from what was sent\n");
    exit(1);
  }
  return 1;
}

static void set_events(int ep, struct conn *c, uint32_t events) {
  struct epoll_event ev;
  ev.events = events;
  ev.data.ptr = c;
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0) die("epoll_ctl");
}

static void add_conn(int ep, struct conn *c, uint32_t events) {
  struct epoll_event ev;
  ev.events = events;
  ev.data.ptr = c;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) die("epoll_ctl");
}

static int run_echo(int port, int conns, double warmup, double duration, uint64_t max_trips,
                    int busy) {
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  for (int i = 0; i < conns; i++) {
    int in_progress;
    cs[i].fd = open_socket(port, &in_progress);
    cs[i].connected = !in_progress;
    add_conn(ep, &cs[i], EPOLLOUT);
  }

  struct epoll_event events[MAX_EVENTS];
  uint64_t trips = 0, counted_from = 0;
  double cpu_start = 0;
  int measuring = 0;
  double start = now_s();
  double measure_start = start + warmup, measure_end = 0;
  double deadline = measure_start + duration;

  for (;;) {
    double t = now_s();
    if (!measuring && t >= measure_start) {
      measuring = 1;
      measure_start = t;
      deadline = t + duration;
      counted_from = trips;
      cpu_start = cpu_s();
    }
    if (measuring && (t >= deadline || (max_trips > 0 && trips - counted_from >= max_trips))) {
      measure_end = t;
      break;
    }
    double until = measuring ? deadline : measure_start;
    int timeout_ms = busy ? 0 : (int)((until - t) * 1000.0) + 1;
    int n = epoll_wait(ep, events, MAX_EVENTS, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!c->connected) {
        check_connected(c->fd);
        c->connected = 1;
      }
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        check_connected(c->fd);
        fprintf(stderr, "echo-client: connection hung up\n");
        return 1;
      }
      if (c->sent < msg_size) {
        if (!send_rest(c)) {
          set_events(ep, c, EPOLLOUT);
          continue;
        }
        set_events(ep, c, EPOLLIN);
        continue;
      }
      if (recv_rest(c)) {
        trips++;
        c->sent = 0;
        c->received = 0;
        if (!send_rest(c)) set_events(ep, c, EPOLLOUT);
      }
    }
  }

  double seconds = measure_end - measure_start;
  double client_cpu = seconds > 0 ? (cpu_s() - cpu_start) / seconds : 0.0;
  uint64_t counted = trips - counted_from;
  printf("{\"mode\":\"echo\",\"connections\":%d,\"size\":%zu,\"seconds\":%.6f,"
         "\"round_trips\":%llu,\"rate\":%.1f,\"client_cpu\":%.3f}\n",
         conns, msg_size, seconds, (unsigned long long)counted,
         seconds > 0 ? (double)counted / seconds : 0.0, client_cpu);
  fflush(stdout);
  for (int i = 0; i < conns; i++) close(cs[i].fd);
  free(cs);
  close(ep);
  return 0;
}

static int run_idle(int port, int conns, double timeout) {
  raise_fd_limit((long)conns + 64);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  struct epoll_event events[MAX_EVENTS];
  int opened = 0, established = 0, connecting = 0;
  double deadline = now_s() + timeout;

  while (established < conns) {
    /* Bounded concurrency keeps the server's accept queue from overflowing,
     * which would turn into 1-second SYN retransmits. */
    while (opened < conns && connecting < MAX_CONNECTING) {
      int in_progress;
      struct conn *c = &cs[opened++];
      c->fd = open_socket(port, &in_progress);
      if (in_progress) {
        connecting++;
        add_conn(ep, c, EPOLLOUT);
      } else {
        c->connected = 1;
        established++;
      }
    }
    if (connecting == 0) continue;
    double t = now_s();
    if (t >= deadline) {
      fprintf(stderr, "echo-client: only %d of %d connections established in time\n",
              established, conns);
      return 1;
    }
    int n = epoll_wait(ep, events, MAX_EVENTS, (int)((deadline - t) * 1000.0) + 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      check_connected(c->fd);
      if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL) != 0) die("epoll_ctl");
      c->connected = 1;
      connecting--;
      established++;
    }
  }
  printf("{\"mode\":\"idle\",\"connected\":%d}\n", established);
  fflush(stdout);

  /* Hold until the runner says so (a line or EOF on stdin), or the timeout. */
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  double left = deadline - now_s();
  if (left > 0) poll(&pfd, 1, (int)(left * 1000.0));
  for (int i = 0; i < conns; i++) close(cs[i].fd);
  free(cs);
  close(ep);
  return 0;
}

static int run_burst(int port, int conns, double timeout) {
  raise_fd_limit((long)conns + 64);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  struct epoll_event events[MAX_EVENTS];
  double cpu_start = cpu_s();
  double start = now_s(), deadline = start + timeout, connected_at = start;
  int connected = 0, served = 0;
  unsigned char byte = 'x';
  for (int i = 0; i < conns; i++) {
    int in_progress;
    cs[i].fd = open_socket(port, &in_progress);
    add_conn(ep, &cs[i], EPOLLOUT);
  }
  while (served < conns) {
    double t = now_s();
    if (t >= deadline) {
      fprintf(stderr, "echo-client: burst: %d connected, %d served of %d in time\n", connected,
              served, conns);
      return 1;
    }
    int n = epoll_wait(ep, events, MAX_EVENTS, (int)((deadline - t) * 1000.0) + 1);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("epoll_wait");
    }
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (!c->connected) {
        check_connected(c->fd);
        c->connected = 1;
        if (++connected == conns) connected_at = now_s();
        if (send(c->fd, &byte, 1, MSG_NOSIGNAL) != 1) die("send");
        set_events(ep, c, EPOLLIN);
        continue;
      }
      ssize_t got = recv(c->fd, scratch, 1, 0);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (got != 1) {
        fprintf(stderr, "echo-client: burst: no echo on a connection\n");
        return 1;
      }
      if (epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL) != 0) die("epoll_ctl");
      served++;
    }
  }
  double end = now_s();
  printf("{\"mode\":\"burst\",\"connections\":%d,\"connected_s\":%.6f,\"served_s\":%.6f,"
         "\"client_cpu\":%.3f}\n",
         conns, connected_at - start, end - start, (cpu_s() - cpu_start) / (end - start));
  fflush(stdout);
  struct linger hard = {1, 0};
  for (int i = 0; i < conns; i++) {
    setsockopt(cs[i].fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(cs[i].fd);
  }
  free(cs);
  close(ep);
  return 0;
}

static int run_resets(int port, int count, double timeout) {
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct linger hard = {1, 0};
  double cpu_start = cpu_s();
  double start = now_s(), worst = 0;
  for (int i = 0; i < count; i++) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) die("socket");
    double t = now_s();
    if (t - start > timeout) {
      fprintf(stderr, "echo-client: resets: only %d of %d in time\n", i, count);
      return 1;
    }
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect");
    double took = now_s() - t;
    if (took > worst) worst = took;
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(fd);
  }
  double end = now_s();
  printf("{\"mode\":\"reset\",\"connections\":%d,\"seconds\":%.6f,\"worst_connect_s\":%.6f,"
         "\"client_cpu\":%.3f}\n",
         count, end - start, worst, (cpu_s() - cpu_start) / (end - start));
  fflush(stdout);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: echo-client -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECONDS] [-n TRIPS] [-b]\n"
          "       echo-client -p PORT -i [-c CONNS] [-t TIMEOUT_S]\n"
          "       echo-client -p PORT -B [-c CONNS] [-t TIMEOUT_S]   (burst)\n"
          "       echo-client -p PORT -R [-c COUNT] [-t TIMEOUT_S]   (connect-then-reset loop)\n"
          "       (-u PATH instead of -p PORT: a UNIX-domain socket)\n");
  exit(2);
}

int main(int argc, char **argv) {
  int port = 0, conns = -1, idle = 0, busy = 0, burst = 0, resets = 0, lines = 0, opt;
  double warmup = 1.0, duration = 5.0, timeout = 120.0;
  uint64_t max_trips = 0;
  while ((opt = getopt(argc, argv, "p:u:c:s:w:d:n:it:bBRL")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'u': unix_path = optarg; break;
      case 'c': conns = atoi(optarg); break;
      case 's': msg_size = (size_t)strtoul(optarg, NULL, 10); break;
      case 'w': warmup = atof(optarg); break;
      case 'd': duration = atof(optarg); break;
      case 'n': max_trips = strtoull(optarg, NULL, 10); break;
      case 'i': idle = 1; break;
      case 't': timeout = atof(optarg); break;
      case 'b': busy = 1; break;
      case 'B': burst = 1; break;
      case 'R': resets = 1; break;
      case 'L': lines = 1; quick_ack = 1; break;
      default: usage();
    }
  }
  if (conns < 0) conns = idle ? 10000 : burst ? 1000 : resets ? 5000 : 10;
  /* Upper bounds keep a typo from exhausting the machine. */
  if (unix_path != NULL && (unix_path[0] == '\0' || strlen(unix_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
    usage();
  if (unix_path != NULL) port = 1; /* unused */
  if (port <= 0 || port > 65535 || conns <= 0 || conns > 60000 || msg_size == 0 ||
      msg_size > (1 << 24) || warmup < 0 || duration <= 0 || duration > 3600 || timeout <= 0 ||
      timeout > 3600)
    usage();
  message = malloc(msg_size);
  scratch = malloc(msg_size);
  if (message == NULL || scratch == NULL) die("malloc");
  for (size_t i = 0; i < msg_size; i++) message[i] = (unsigned char)('a' + i % 26);
  if (lines) {
    if (msg_size % 64 != 0) usage();
    for (size_t i = 62; i < msg_size; i += 64) {
      message[i] = '\r';
      message[i + 1] = '\n';
    }
  }
  if (burst) return run_burst(port, conns, timeout);
  if (resets) return run_resets(port, conns, timeout);
  return idle ? run_idle(port, conns, timeout) : run_echo(port, conns, warmup, duration, max_trips, busy);
}
