/* What one shed request costs the server: bench/shed_cost.sh runs the
 * server in a CPU quota and this sends it new REGISTERs (no credentials,
 * each its own transaction, as `sipwarden bench` builds them) over UDP at a
 * fixed rate, well past what the quota lets it answer, and counts the
 * answers by status. It never retransmits and never honours Retry-After:
 * the point is a standing queue, so that the server sheds nearly all.
 *   bench_shed HOST:PORT RATE SECONDS
 * Prints one line: sent, then answers by status (503, 401, other). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned long n503, n401, nother;

static void drain(int fd)
{
	static char buf[BATCH][1500];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	for (;;) {
		for (unsigned k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){ buf[k], sizeof(buf[k]) };
			m[k].msg_hdr = (struct msghdr){ .msg_iov = &iov[k], .msg_iovlen = 1 };
		}
		int n = recvmmsg(fd, m, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int k = 0; k < n; k++) {
			if (m[k].msg_len > 12 && !memcmp(buf[k], "SIP/2.0 503", 11))
				n503++;
			else if (m[k].msg_len > 12 && !memcmp(buf[k], "SIP/2.0 401", 11))
				n401++;
			else
				nother++;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 4 || !strchr(argv[1], ':')) {
		fprintf(stderr, "usage: bench_shed HOST:PORT RATE SECONDS\n");
		return 2;
	}
	char host[64];
	snprintf(host, sizeof(host), "%.*s", (int)(strchr(argv[1], ':') - argv[1]), argv[1]);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(strchr(argv[1], ':') + 1)) };
	double rate = atof(argv[2]), secs = atof(argv[3]);
	if (inet_pton(AF_INET, host, &to.sin_addr) != 1 || rate <= 0 || secs <= 0) {
		fprintf(stderr, "bench_shed: an IPv4 HOST:PORT, a RATE and SECONDS\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	struct sockaddr_in me = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t ml = sizeof(me);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) || getsockname(fd, (struct sockaddr *)&me, &ml)) {
		perror("bench_shed: socket");
		return 1;
	}
	unsigned port = ntohs(me.sin_port);
	static char req[BATCH][900];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	unsigned long sent = 0, seq = 0;
	double t0 = now_s(), end = t0 + secs;
	for (double t = now_s(); t < end; t = now_s()) {
		unsigned long due = (unsigned long)((t - t0) * rate);
		while (sent < due) {
			unsigned n = due - sent < BATCH ? (unsigned)(due - sent) : BATCH;
			for (unsigned k = 0; k < n; k++, seq++) {
				unsigned u = (unsigned)(seq % 10000u);
				int len = snprintf(req[k], sizeof(req[k]),
					"REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKshed.%lu;rport\r\n"
					"Max-Forwards: 70\r\nFrom: <sip:user%05u@%s>;tag=s%lx\r\nTo: <sip:user%05u@%s>\r\n"
					"Call-ID: shed-%lu@bench.sipwarden\r\nCSeq: 1 REGISTER\r\n"
					"Contact: <sip:user%05u@127.0.0.1:%u>\r\nExpires: 3600\r\n"
					"User-Agent: sipwarden-bench\r\nContent-Length: 0\r\n\r\n",
					host, port, seq, u, host, seq, u, host, seq, u, port);
				iov[k] = (struct iovec){ req[k], (size_t)len };
				m[k].msg_hdr = (struct msghdr){ .msg_name = &to, .msg_namelen = sizeof(to),
								.msg_iov = &iov[k], .msg_iovlen = 1 };
			}
			int r = sendmmsg(fd, m, n, 0);
			if (r <= 0 && errno != EAGAIN && errno != ENOBUFS && errno != ECONNREFUSED) {
				perror("bench_shed: sendmmsg");
				return 1;
			}
			sent += r > 0 ? (unsigned)r : n;
			drain(fd);
		}
		drain(fd);
		struct timespec pause = { 0, 200000 };
		nanosleep(&pause, NULL);
	}
	for (double t = now_s(); now_s() < t + 1.0;) {
		drain(fd);
		struct timespec pause = { 0, 1000000 };
		nanosleep(&pause, NULL);
	}
	printf("sent %lu 503 %lu 401 %lu other %lu\n", sent, n503, n401, nother);
	close(fd);
	return 0;
}
