/*
 * bench:sfu light RTP receiver. A Node receiver costs ~7 µs of CPU per datagram, so at the
 * ~125,000 packets/s of a thousand consumers it would need most of a core of a 2-core machine
 * and compete with the worker it measures. This one reads with recvmmsg (64 datagrams per
 * system call) and only looks at the RTP header: per SSRC, packets and the extended highest
 * sequence number, from which sequence gaps (loss) follow per measurement window.
 *
 * Built on first use by bench/lib/csink.ts (`cc -O2`); Node's receiver is the fallback.
 *
 *   rtpsink <sockets>      prints one line "ports <p1> <p2> …", then answers on stdin:
 *   reset                  start a window (counts restart from each SSRC's next packet)
 *   stats                  one JSON line: {"ssrcs","active","received","expected","silent","rtcp","probation"}
 *   quit
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CAP 65536
#define BATCH 64
#define PROBATION_SSRC 1234u

typedef struct {
  uint32_t ssrc;
  uint8_t used;
  uint64_t packets, dup;
  uint32_t first, highest;
  uint64_t cycles;
  double last;
} ssrc_state;

static ssrc_state tab[CAP];
static uint64_t rtcp, probation;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static ssrc_state *lookup(uint32_t ssrc) {
  uint32_t h = (ssrc * 2654435761u) & (CAP - 1);
  for (int i = 0; i < CAP; i++) {
    if (!tab[h].used || tab[h].ssrc == ssrc) return &tab[h];
    h = (h + 1) & (CAP - 1);
  }
  return NULL;
}

static void packet(const uint8_t *p, size_t len, double t) {
  if (len < 12) return;
  if (p[1] >= 192 && p[1] <= 223) {
    rtcp++;
    return;
  }
  uint32_t ssrc = ((uint32_t)p[8] << 24) | ((uint32_t)p[9] << 16) | ((uint32_t)p[10] << 8) | p[11];
  if (ssrc == PROBATION_SSRC) {
    probation++;
    return;
  }
  uint32_t seq = ((uint32_t)p[2] << 8) | p[3];
  ssrc_state *s = lookup(ssrc);
  if (!s) return;
  if (!s->used) {
    s->used = 1;
    s->ssrc = ssrc;
    s->packets = 1;
    s->first = s->highest = seq;
    s->last = t;
    return;
  }
  s->packets++;
  s->last = t;
  uint32_t delta = (seq - s->highest) & 0xffff;
  if (delta == 0) s->dup++;
  else if (delta < 0x8000) {
    if (seq < s->highest) s->cycles += 0x10000;
    s->highest = seq;
  }
}

static void reset(void) {
  for (int i = 0; i < CAP; i++) {
    if (!tab[i].used) continue;
    tab[i].packets = tab[i].dup = tab[i].cycles = 0;
    tab[i].first = (tab[i].highest + 1) & 0xffff;
  }
  rtcp = probation = 0;
}

static void stats(void) {
  double t = now_ms();
  uint64_t ssrcs = 0, active = 0, received = 0, expected = 0, silent = 0;
  for (int i = 0; i < CAP; i++) {
    ssrc_state *s = &tab[i];
    if (!s->used) continue;
    ssrcs++;
    received += s->packets - s->dup;
    if (s->packets == 0) {
      silent++;
      continue;
    }
    expected += s->cycles + s->highest - s->first + 1;
    if (t - s->last <= 1000) active++;
  }
  printf("{\"ssrcs\":%lu,\"active\":%lu,\"received\":%lu,\"expected\":%lu,\"silent\":%lu,\"rtcp\":%lu,\"probation\":%lu}\n",
         (unsigned long)ssrcs, (unsigned long)active, (unsigned long)received, (unsigned long)expected,
         (unsigned long)silent, (unsigned long)rtcp, (unsigned long)probation);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1;
  if (n < 1 || n > 64) n = 1;
  int ep = epoll_create1(0);
  int fds[64];
  printf("ports");
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 4 * 1024 * 1024;
    setsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(fds[i], (struct sockaddr *)&a, sizeof a) != 0) {
      perror("bind");
      return 1;
    }
    socklen_t al = sizeof a;
    getsockname(fds[i], (struct sockaddr *)&a, &al);
    printf(" %d", ntohs(a.sin_port));
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  printf("\n");
  fflush(stdout);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);

  /* only the RTP header is read: the kernel copies 16 bytes and truncates the rest (MSG_TRUNC) */
  static uint8_t bufs[BATCH][16];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  char line[256];
  size_t linelen = 0;
  for (;;) {
    struct epoll_event evs[16];
    int k = epoll_wait(ep, evs, 16, -1);
    if (k < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int e = 0; e < k; e++) {
      int fd = evs[e].data.fd;
      if (fd == 0) {
        ssize_t r = read(0, line + linelen, sizeof line - 1 - linelen);
        if (r <= 0) return 0; /* parent gone */
        linelen += (size_t)r;
        line[linelen] = 0;
        char *nl;
        while ((nl = strchr(line, '\n')) != NULL) {
          *nl = 0;
          if (strcmp(line, "reset") == 0) {
            reset();
            printf("ok\n");
            fflush(stdout);
          } else if (strcmp(line, "stats") == 0) stats();
          else if (strcmp(line, "quit") == 0) return 0;
          size_t used = (size_t)(nl - line) + 1;
          memmove(line, nl + 1, linelen - used + 1);
          linelen -= used;
        }
        if (linelen >= sizeof line - 1) linelen = 0;
        continue;
      }
      for (int rounds = 0; rounds < 64; rounds++) {
        for (int i = 0; i < BATCH; i++) {
          iov[i].iov_base = bufs[i];
          iov[i].iov_len = sizeof bufs[i];
          memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (got <= 0) break;
        double t = now_ms();
        for (int i = 0; i < got; i++) packet(bufs[i], msgs[i].msg_len < 16 ? msgs[i].msg_len : 16, t);
        if (got < BATCH) break;
      }
    }
  }
}
