/*
 * UDP load generator for bench/udp-echo.ts (which builds and drives it).
 *
 * Why C: a Node client would saturate its own core before the Node server
 * under test does, and so measure itself (the same reason as echo-client.c).
 *
 *   udp-echo-client PORT WINDOW SIZE WARMUP_S SECONDS
 *
 * Connects a UDP socket to 127.0.0.1:PORT and keeps WINDOW datagrams of SIZE
 * bytes in flight: each reply received sends one more. A datagram lost on the
 * way (a full socket buffer) would shrink the window for good, so when nothing
 * has come back for 20 ms the window is sent again. After WARMUP_S seconds of
 * uncounted traffic it counts replies for SECONDS seconds and prints one JSON
 * line: {"replies":..,"seconds":..,"rate":..,"refills":..,"client_cpu":..}
 * where client_cpu is the client's CPU time over the wall time measured
 * (well below 1.0 shows the client was not the bottleneck).
 *
 * Exit status: 0 on success, 1 on a socket error, 2 on bad arguments.
 * Build: gcc -O2 -o bench/bin/udp-echo-client bench/udp-echo-client.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: udp-echo-client PORT WINDOW SIZE WARMUP_S SECONDS\n");
    return 2;
  }
  int port = atoi(argv[1]), window = atoi(argv[2]), size = atoi(argv[3]);
  double warmup = atof(argv[4]), seconds = atof(argv[5]);
  if (port <= 0 || port > 65535 || window <= 0 || size <= 0 || size > 65507 || seconds <= 0) {
    fprintf(stderr, "udp-echo-client: bad arguments\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("udp-echo-client: socket");
    return 1;
  }
  struct timeval tv = {.tv_sec = 0, .tv_usec = 20000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char *out = malloc(size), *in = malloc(65536);
  memset(out, 'u', size);
  long replies = 0, refills = 0;
  double start = now(), counting = start + warmup, end = counting + seconds, cpu0 = 0;
  int counting_started = 0;
  for (int i = 0; i < window; i++) send(fd, out, size, 0);
  for (;;) {
    double t = now();
    if (!counting_started && t >= counting) {
      counting_started = 1;
      replies = 0;
      refills = 0;
      cpu0 = cpu();
    }
    if (t >= end) break;
    ssize_t n = recv(fd, in, 65536, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
        refills++;
        for (int i = 0; i < window; i++) send(fd, out, size, 0);
        continue;
      }
      perror("udp-echo-client: recv");
      return 1;
    }
    replies++;
    if (send(fd, out, size, 0) < 0 && errno != ENOBUFS && errno != EAGAIN) {
      perror("udp-echo-client: send");
      return 1;
    }
  }
  double wall = now() - counting;
  printf("{\"replies\":%ld,\"seconds\":%.3f,\"rate\":%.1f,\"refills\":%ld,\"client_cpu\":%.3f}\n",
         replies, wall, replies / wall, refills, (cpu() - cpu0) / wall);
  return 0;
}
