/*
 * The hostile peer of the tiny-writes benchmark: opens N connections to a
 * loopback line-echo server, sends empty lines ("\r\n") as fast as the server
 * takes them and never reads a byte back, with a small receive buffer so the
 * server's output backs up quickly. Bounded: it stops sending after SECONDS,
 * or once each connection has sent BYTES (default: no limit), prints one JSON line with the bytes each connection sent, then
 * holds the connections open until its standard input closes (so the runner
 * can measure the server while the backlog exists), and exits.
 *
 *   never-read-client PORT CONNECTIONS SECONDS [BYTES]
 *
 * Tests: none (benchmark harness; bench/tiny-writes.ts runs it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNECTIONS 4096
#define BLOCK 65536

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s PORT CONNECTIONS SECONDS [BYTES]\n", argv[0]);
    return 2;
  }
  int port = atoi(argv[1]);
  int n = atoi(argv[2]);
  double seconds = atof(argv[3]);
  /* Even, so that every "\r\n" pair is sent whole. */
  long long limit = argc == 5 ? (atoll(argv[4]) & ~1LL) : -1;
  if (port <= 0 || port > 65535 || n <= 0 || n > MAX_CONNECTIONS || !(seconds > 0)) {
    fprintf(stderr, "bad arguments\n");
    return 2;
  }
  static char block[BLOCK];
  for (int i = 0; i < BLOCK; i += 2) {
    block[i] = '\r';
    block[i + 1] = '\n';
  }
  static int fds[MAX_CONNECTIONS];
  static long long sent[MAX_CONNECTIONS];
  int ep = epoll_create1(0);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    /* A small receive buffer: the server's echoes back up after a few KiB. */
    int rcvbuf = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
      perror("connect");
      return 1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (unsigned)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    fds[i] = fd;
  }
  double end = now() + seconds;
  struct epoll_event events[256];
  while (now() < end) {
    int ready = epoll_wait(ep, events, 256, 100);
    for (int e = 0; e < ready; e++) {
      int i = (int)events[e].data.u32;
      for (;;) {
        size_t want = BLOCK;
        if (limit >= 0 && sent[i] + (long long)want > limit) want = (size_t)(limit - sent[i]);
        if (want == 0) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
          break;
        }
        ssize_t w = send(fds[i], block, want, MSG_NOSIGNAL);
        if (w > 0) {
          sent[i] += w;
          continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
          epoll_ctl(ep, EPOLL_CTL_DEL, fds[i], NULL);
        }
        break;
      }
    }
  }
  long long total = 0;
  for (int i = 0; i < n; i++) total += sent[i];
  printf("{\"connections\":%d,\"sent\":%lld}\n", n, total);
  fflush(stdout);
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  for (int i = 0; i < n; i++) close(fds[i]);
  return 0;
}
