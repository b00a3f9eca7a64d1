/*
 * TLS load generator for Torsion's TLS benchmarks (bench/run.ts builds it
 * into bench/bin and drives it through bench/lib/tls.ts).
 *
 * Why C and OpenSSL: a Node client would spend as much on every record and
 * every handshake as the server it measures, and on a 2-core machine it would
 * saturate its core first. This is one epoll thread with non-blocking SSL
 * objects. It is a load generator, not a TLS client anyone should copy: it
 * verifies no certificate (SSL_VERIFY_NONE), speaks TLS 1.3 only, and never
 * resumes a session (no session cache, a fresh SSL object per connection), so
 * every connection costs the server a full handshake.
 *
 * Three modes, all connecting to 127.0.0.1 only and all stopping by themselves:
 *
 *   tls-echo-client -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECONDS] [-b]
 *     Echo: opens CONNS connections, then each sends SIZE bytes, waits for all
 *     SIZE bytes to come back (checking them), and sends again; it keeps
 *     reading while it writes, so a message larger than the socket buffers
 *     cannot deadlock. After WARMUP_S seconds of uncounted traffic (the
 *     handshakes happen there) it counts round trips for SECONDS seconds and
 *     prints one JSON line:
 *     {"mode":"echo","connections":..,"size":..,"seconds":..,"round_trips":..,"rate":..,
 *      "client_cpu":..}
 *     -b busy-polls (epoll_wait with a zero timeout) as in echo-client.c.
 *
 *   tls-echo-client -p PORT -H [-c CONCURRENCY] [-w WARMUP_S] [-d SECONDS]
 *     Handshakes: CONCURRENCY connections at a time each go through TCP
 *     connect, a full TLS 1.3 handshake, close_notify both ways (the server's
 *     close_notify proves it finished the handshake too) and the server's FIN,
 *     then a close with SO_LINGER 0 (a RST, so that no TIME_WAIT piles up),
 *     and the slot starts over. Prints
 *     {"mode":"handshakes","concurrency":..,"seconds":..,"handshakes":..,"rate":..,
 *      "client_cpu":..}
 *     with the cycles completed during the SECONDS counted.
 *
 *   tls-echo-client -p PORT -i [-c CONNS] [-m FIRST] [-t TIMEOUT_S]
 *     Idle: opens connections and completes their handshakes (at most 256 in
 *     progress at a time), then leaves them idle. With -m it stops at FIRST,
 *     prints {"mode":"idle","connected":FIRST} and waits for a line on stdin
 *     before opening the rest. Once all CONNS are up it prints
 *     {"mode":"idle","connected":CONNS} and holds them until stdin has a line
 *     or reaches EOF (or TIMEOUT_S passes), then closes them and exits.
 *
 * Exit status: 0 on success, 1 on any socket or TLS error, 2 on bad arguments.
 * Build: gcc -O2 -o bench/bin/tls-echo-client bench/tls-echo-client.c -lssl -lcrypto
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define MAX_IN_PROGRESS 256
/* A handshake cycle that takes longer than this means the server is stuck. */
#define CYCLE_TIMEOUT_S 10.0

enum state {
  CONNECTING,  /* TCP connect in progress */
  HANDSHAKING, /* SSL_do_handshake until it returns 1 */
  ECHOING,     /* echo mode: ping-pong */
  CLOSING,     /* handshake mode: sending our close_notify */
  WAIT_NOTIFY, /* handshake mode: reading until the server's close_notify */
  WAIT_EOF,    /* handshake mode: reading until the server's FIN */
  HELD,        /* idle mode: handshake done, left alone */
};

struct conn {
  int fd;
  SSL *ssl;
  enum state state;
  uint32_t events; /* what epoll watches for this connection now */
  size_t sent;     /* bytes of the current message written so far */
  size_t received; /* bytes of the current echo read so far */
  double started;  /* when this connection's cycle began (handshake mode) */
};

static SSL_CTX *ctx;
static int port;
static int ep;
static unsigned char *message;
static unsigned char *scratch;
static size_t scratch_size;
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
  fprintf(stderr, "tls-echo-client: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void die_tls(const char *what, int ssl_error) {
  unsigned long code = ERR_get_error();
  char reason[256] = "no OpenSSL error queued";
  if (code != 0) ERR_error_string_n(code, reason, sizeof reason);
  fprintf(stderr, "tls-echo-client: %s: SSL error %d (%s), errno %s\n", what, ssl_error, reason,
          strerror(errno));
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
    fprintf(stderr, "tls-echo-client: need %ld file descriptors, hard limit is %ld\n", wanted,
            (long)rl.rlim_max);
    exit(1);
  }
}

static void make_context(void) {
  ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) die_tls("SSL_CTX_new", 0);
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  /* A load generator: it checks nothing about the server's certificate. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  /* Every connection a full handshake: nothing cached, nothing offered. */
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
  /* 100 KiB messages go out a record at a time; a retried write may move. */
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

static void watch(struct conn *c, uint32_t events) {
  if (c->events == events) return;
  struct epoll_event ev;
  ev.events = events;
  ev.data.ptr = c;
  int op = c->events == 0 ? EPOLL_CTL_ADD : events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
  if (epoll_ctl(ep, op, c->fd, op == EPOLL_CTL_DEL ? NULL : &ev) != 0) die("epoll_ctl");
  c->events = events;
}

static void open_conn(struct conn *c) {
  struct sockaddr_in addr;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  memset(&addr, 0, sizeof addr);
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  c->ssl = NULL;
  c->events = 0;
  c->sent = 0;
  c->received = 0;
  c->started = now_s();
  c->state = CONNECTING;
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
    die("connect");
  }
  /* Even a connect that finished at once reports writable: one path for both. */
  watch(c, EPOLLOUT);
}

/* Frees the connection's SSL object and closes its socket, with a RST when `reset`. */
static void close_conn(struct conn *c, int reset) {
  watch(c, 0);
  if (reset) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  if (c->ssl != NULL) SSL_free(c->ssl);
  c->ssl = NULL;
  close(c->fd);
  c->fd = -1;
}

/* What to wait for after an SSL call returned `ret`; dies on a real error. */
static uint32_t wanted(struct conn *c, int ret, const char *what) {
  int err = SSL_get_error(c->ssl, ret);
  if (err == SSL_ERROR_WANT_READ) return EPOLLIN;
  if (err == SSL_ERROR_WANT_WRITE) return EPOLLOUT;
  die_tls(what, err);
  return 0;
}

/* Connect finished: check it and start the handshake. */
static void connected(struct conn *c) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) die("getsockopt");
  if (err != 0) {
    errno = err;
    die("connect");
  }
  c->ssl = SSL_new(ctx);
  if (c->ssl == NULL) die_tls("SSL_new", 0);
  SSL_set_fd(c->ssl, c->fd);
  SSL_set_tlsext_host_name(c->ssl, "localhost");
  SSL_set_connect_state(c->ssl);
  c->state = HANDSHAKING;
}

/*
 * Echo: write what is left of the message, read what has come back, and start
 * the next message when all of it has. Returns the round trips completed.
 */
static uint64_t echo_step(struct conn *c) {
  uint64_t trips = 0;
  for (;;) {
    uint32_t events = EPOLLIN;
    int progressed = 0;
    if (c->sent < msg_size) {
      int n = SSL_write(c->ssl, message + c->sent, (int)(msg_size - c->sent));
      if (n > 0) {
        c->sent += (size_t)n;
        progressed = 1;
      } else {
        events |= wanted(c, n, "SSL_write");
      }
    }
    while (c->received < c->sent) {
      int n = SSL_read(c->ssl, scratch, (int)(c->sent - c->received));
      if (n <= 0) {
        int err = SSL_get_error(c->ssl, n);
        if (err == SSL_ERROR_ZERO_RETURN) {
          fprintf(stderr, "tls-echo-client: server closed a connection\n");
          exit(1);
        }
        events |= wanted(c, n, "SSL_read");
        break;
      }
      if (memcmp(scratch, message + c->received, (size_t)n) != 0) {
        fprintf(stderr, "tls-echo-client: echo differs from what was sent\n");
        exit(1);
      }
      c->received += (size_t)n;
      progressed = 1;
    }
    if (c->received == msg_size) {
      trips++;
      c->sent = 0;
      c->received = 0;
      continue;
    }
    if (!progressed) {
      watch(c, events);
      return trips;
    }
  }
}

/*
 * Handshake mode after the handshake: send close_notify, read until the
 * server's close_notify and then its FIN. Returns 1 when the cycle is complete.
 */
static int close_step(struct conn *c) {
  for (;;) {
    if (c->state == CLOSING) {
      int r = SSL_shutdown(c->ssl);
      if (r < 0) {
        watch(c, wanted(c, r, "SSL_shutdown"));
        return 0;
      }
      c->state = r == 1 ? WAIT_EOF : WAIT_NOTIFY;
    } else if (c->state == WAIT_NOTIFY) {
      /* Reads past the session tickets the server sends after its handshake. */
      int n = SSL_read(c->ssl, scratch, (int)scratch_size);
      if (n > 0) continue;
      int err = SSL_get_error(c->ssl, n);
      if (err == SSL_ERROR_ZERO_RETURN) {
        c->state = WAIT_EOF;
        continue;
      }
      watch(c, wanted(c, n, "SSL_read (waiting for close_notify)"));
      return 0;
    } else {
      ssize_t n = recv(c->fd, scratch, scratch_size, 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return 1;
      if (n > 0) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        watch(c, EPOLLIN);
        return 0;
      }
      die("recv (waiting for the server's FIN)");
    }
  }
}

/* Advances one connection after an epoll event. Returns 1 when a handshake cycle completed. */
static int step(struct conn *c, int handshake_mode, uint64_t *trips) {
  if (c->state == CONNECTING) connected(c);
  if (c->state == HANDSHAKING) {
    int r = SSL_do_handshake(c->ssl);
    if (r != 1) {
      watch(c, wanted(c, r, "SSL_do_handshake"));
      return 0;
    }
    if (handshake_mode) {
      c->state = CLOSING;
    } else if (trips != NULL) {
      c->state = ECHOING;
    } else {
      c->state = HELD;
      watch(c, 0);
      return 1;
    }
  }
  if (c->state == ECHOING) {
    *trips += echo_step(c);
    return 0;
  }
  if (c->state == HELD) return 0;
  return close_step(c);
}

static int wait_events(struct epoll_event *events, double until, int busy) {
  double left = until - now_s();
  int timeout_ms = busy ? 0 : left > 0 ? (int)(left * 1000.0) + 1 : 0;
  int n = epoll_wait(ep, events, MAX_EVENTS, timeout_ms);
  if (n < 0 && errno != EINTR) die("epoll_wait");
  return n < 0 ? 0 : n;
}

static int run_echo(int conns, double warmup, double duration, int busy) {
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  for (int i = 0; i < conns; i++) open_conn(&cs[i]);

  struct epoll_event events[MAX_EVENTS];
  uint64_t trips = 0, counted_from = 0;
  double cpu_start = 0, measure_end = 0;
  int measuring = 0;
  double measure_start = now_s() + warmup;
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
    if (measuring && t >= deadline) {
      measure_end = t;
      break;
    }
    int n = wait_events(events, measuring ? deadline : measure_start, busy);
    for (int i = 0; i < n; i++) step(events[i].data.ptr, 0, &trips);
  }

  double seconds = measure_end - measure_start;
  uint64_t counted = trips - counted_from;
  printf("{\"mode\":\"echo\",\"connections\":%d,\"size\":%zu,\"seconds\":%.6f,"
         "\"round_trips\":%llu,\"rate\":%.1f,\"client_cpu\":%.3f}\n",
         conns, msg_size, seconds, (unsigned long long)counted,
         seconds > 0 ? (double)counted / seconds : 0.0,
         seconds > 0 ? (cpu_s() - cpu_start) / seconds : 0.0);
  fflush(stdout);
  for (int i = 0; i < conns; i++) close_conn(&cs[i], 1);
  free(cs);
  return 0;
}

static int run_handshakes(int conns, double warmup, double duration) {
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  for (int i = 0; i < conns; i++) open_conn(&cs[i]);

  struct epoll_event events[MAX_EVENTS];
  uint64_t done = 0, counted_from = 0;
  double cpu_start = 0, measure_end = 0, next_check = now_s() + 1.0;
  int measuring = 0;
  double measure_start = now_s() + warmup;
  double deadline = measure_start + duration;
  for (;;) {
    double t = now_s();
    if (!measuring && t >= measure_start) {
      measuring = 1;
      measure_start = t;
      deadline = t + duration;
      counted_from = done;
      cpu_start = cpu_s();
    }
    if (measuring && t >= deadline) {
      measure_end = t;
      break;
    }
    if (t >= next_check) {
      /* A server that never answers must not hang the benchmark. */
      for (int i = 0; i < conns; i++) {
        if (t - cs[i].started > CYCLE_TIMEOUT_S) {
          fprintf(stderr, "tls-echo-client: a connection made no progress for %.0f s (state %d)\n",
                  CYCLE_TIMEOUT_S, (int)cs[i].state);
          exit(1);
        }
      }
      next_check = t + 1.0;
    }
    int n = wait_events(events, measuring ? deadline : measure_start, 0);
    for (int i = 0; i < n; i++) {
      struct conn *c = events[i].data.ptr;
      if (step(c, 1, NULL)) {
        done++;
        close_conn(c, 1);
        open_conn(c);
      }
    }
  }

  double seconds = measure_end - measure_start;
  uint64_t counted = done - counted_from;
  printf("{\"mode\":\"handshakes\",\"concurrency\":%d,\"seconds\":%.6f,\"handshakes\":%llu,"
         "\"rate\":%.1f,\"client_cpu\":%.3f}\n",
         conns, seconds, (unsigned long long)counted,
         seconds > 0 ? (double)counted / seconds : 0.0,
         seconds > 0 ? (cpu_s() - cpu_start) / seconds : 0.0);
  fflush(stdout);
  for (int i = 0; i < conns; i++) close_conn(&cs[i], 1);
  free(cs);
  return 0;
}

/* Opens connections cs[*opened..target) and completes their handshakes. */
static void open_idle(struct conn *cs, int *opened, int target, double deadline) {
  struct epoll_event events[MAX_EVENTS];
  int in_progress = 0, held = *opened;
  while (held < target) {
    /* Bounded concurrency keeps the server's accept queue from overflowing,
     * which would turn into 1-second SYN retransmits. */
    while (*opened < target && in_progress < MAX_IN_PROGRESS) {
      open_conn(&cs[(*opened)++]);
      in_progress++;
    }
    if (now_s() >= deadline) {
      fprintf(stderr, "tls-echo-client: only %d of %d connections up in time\n", held, target);
      exit(1);
    }
    int n = wait_events(events, deadline, 0);
    for (int i = 0; i < n; i++) {
      if (step(events[i].data.ptr, 0, NULL)) {
        in_progress--;
        held++;
      }
    }
  }
}

/* Holds until the runner says so (a line or EOF on stdin), or until `deadline`. */
static void wait_for_runner(double deadline) {
  struct pollfd pfd = {.fd = 0, .events = POLLIN};
  double left = deadline - now_s();
  if (left <= 0) return;
  if (poll(&pfd, 1, (int)(left * 1000.0)) > 0 && (pfd.revents & POLLIN)) {
    char line[64];
    ssize_t ignored = read(0, line, sizeof line);
    (void)ignored;
  }
}

static int run_idle(int conns, int first, double timeout) {
  raise_fd_limit((long)conns + 64);
  struct conn *cs = calloc((size_t)conns, sizeof *cs);
  if (cs == NULL) die("calloc");
  double deadline = now_s() + timeout;
  int opened = 0;
  if (first > 0 && first < conns) {
    open_idle(cs, &opened, first, deadline);
    printf("{\"mode\":\"idle\",\"connected\":%d}\n", opened);
    fflush(stdout);
    wait_for_runner(deadline);
  }
  open_idle(cs, &opened, conns, deadline);
  printf("{\"mode\":\"idle\",\"connected\":%d}\n", opened);
  fflush(stdout);
  wait_for_runner(deadline);
  for (int i = 0; i < opened; i++) close_conn(&cs[i], 1);
  free(cs);
  return 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: tls-echo-client -p PORT [-c CONNS] [-s SIZE] [-w WARMUP_S] [-d SECONDS] [-b]\n"
          "       tls-echo-client -p PORT -H [-c CONCURRENCY] [-w WARMUP_S] [-d SECONDS]\n"
          "       tls-echo-client -p PORT -i [-c CONNS] [-m FIRST] [-t TIMEOUT_S]\n");
  exit(2);
}

int main(int argc, char **argv) {
  int conns = -1, first = 0, idle = 0, handshakes = 0, busy = 0, opt;
  double warmup = 1.0, duration = 5.0, timeout = 300.0;
  while ((opt = getopt(argc, argv, "p:c:s:w:d:m:it:Hb")) != -1) {
    switch (opt) {
      case 'p': port = atoi(optarg); break;
      case 'c': conns = atoi(optarg); break;
      case 's': msg_size = (size_t)strtoul(optarg, NULL, 10); break;
      case 'w': warmup = atof(optarg); break;
      case 'd': duration = atof(optarg); break;
      case 'm': first = atoi(optarg); break;
      case 'i': idle = 1; break;
      case 't': timeout = atof(optarg); break;
      case 'H': handshakes = 1; break;
      case 'b': busy = 1; break;
      default: usage();
    }
  }
  if (conns < 0) conns = idle ? 10000 : 10;
  /* Upper bounds keep a typo from exhausting the machine. */
  if (port <= 0 || port > 65535 || conns <= 0 || conns > 60000 || first < 0 || msg_size == 0 ||
      msg_size > (1 << 24) || warmup < 0 || duration <= 0 || duration > 3600 || timeout <= 0 ||
      timeout > 3600 || (idle && handshakes))
    usage();
  message = malloc(msg_size);
  /* At least one TLS record, for draining what the server sends as it closes. */
  scratch_size = msg_size < 16384 ? 16384 : msg_size;
  scratch = malloc(scratch_size);
  if (message == NULL || scratch == NULL) die("malloc");
  for (size_t i = 0; i < msg_size; i++) message[i] = (unsigned char)('a' + i % 26);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  make_context();
  if (idle) return run_idle(conns, first, timeout);
  if (handshakes) return run_handshakes(conns, warmup, duration);
  return run_echo(conns, warmup, duration, busy);
}
