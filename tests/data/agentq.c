/* Ask the SSH agent at $SSH_AUTH_SOCK for its identities; print how many and their comments. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
static unsigned u32(const unsigned char *p) { return (unsigned)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static int readn(int fd, unsigned char *b, size_t n) { size_t g = 0; while (g < n) { ssize_t r = read(fd, b + g, n - g); if (r <= 0) return -1; g += (size_t)r; } return 0; }
int main(void) {
  const char *path = getenv("SSH_AUTH_SOCK");
  if (!path) { puts("no SSH_AUTH_SOCK"); return 2; }
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a; memset(&a, 0, sizeof a); a.sun_family = AF_UNIX;
  strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 3; }
  unsigned char req[5] = {0, 0, 0, 1, 11}; /* SSH2_AGENTC_REQUEST_IDENTITIES */
  if (write(fd, req, 5) != 5) return 4;
  unsigned char h[4]; if (readn(fd, h, 4)) return 5;
  unsigned len = u32(h); unsigned char *m = malloc(len); if (readn(fd, m, len)) return 6;
  if (m[0] != 12) { printf("unexpected answer %d\n", m[0]); return 7; } /* IDENTITIES_ANSWER */
  unsigned n = u32(m + 1), off = 5; printf("identities: %u\n", n);
  for (unsigned i = 0; i < n; i++) {
    unsigned kl = u32(m + off); off += 4 + kl;
    unsigned cl = u32(m + off); off += 4;
    printf("comment: %.*s\n", (int)cl, m + off); off += cl;
  }
  return 0;
}
