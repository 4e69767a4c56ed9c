/* What this disk allows a durable registrar: the latency of the write a
 * 200 OK waits for, and the tail an ideal group commit would still have.
 *
 * Writes the way sqlite's WAL does with synchronous=FULL — a commit appends
 * three frames (a page plus its 24-byte header each) to a file written once
 * beforehand (so no commit changes the file's size), then fdatasync — N
 * times with a pause between them (a server's commits come one at a time).
 * Then replays those measured durations as an ideal group commit at RATE
 * registrations/s arriving evenly: no CPU cost at all, a commit starts the
 * moment the previous one ends (or the next registration arrives) and takes
 * every registration that arrived before it. Each registration waits for
 * the rest of the commit in flight and then for its own; the percentiles of
 * that wait are a floor for the durable leg of any design that syncs once
 * per batch on this disk. System CPU per commit (its pause included) is
 * printed too.
 *
 *   build/release/bench/bench_fsync [N, default 20000] [RATE, default 5000] [DIR, default .]
 *
 * DIR should be on the disk the database lives on; the file is removed at
 * the end. Never fails on time. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define FRAME (4096 + 24)
#define FRAMES_PER_COMMIT 3
#define FILE_FRAMES 8192 /* 32 MiB, the WAL cap of the sqlite store */
#define PAUSE_US 250

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)(p / 100.0 * (double)n);
	return sorted[i < n ? i : n - 1];
}

static void print_dist(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	printf("%s: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f us\n", what, pct(v, n, 50),
	       pct(v, n, 90), pct(v, n, 99), pct(v, n, 99.9), v[n - 1]);
}

/* Every registration's wait for durability under an ideal group commit
 * whose successive commits take lat[0], lat[1], ... */
static size_t group_commit(const double *lat, size_t nlat, double rate, double *wait, size_t cap)
{
	double gap = 1e6 / rate, busy_until = 0;
	size_t k = 0; /* next registration */
	for (size_t c = 0; c < nlat && k < cap; c++) {
		double start = busy_until > (double)k * gap ? busy_until : (double)k * gap;
		double end = start + lat[c];
		for (; k < cap && (double)k * gap <= start; k++)
			wait[k] = end - (double)k * gap;
		busy_until = end;
	}
	return k;
}

int main(int argc, char **argv)
{
	long count = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	double rate = argc > 2 ? strtod(argv[2], NULL) : 5000;
	const char *dir = argc > 3 ? argv[3] : ".";
	if (count < 100 || count > 100000000 || !(rate > 0)) {
		fprintf(stderr, "usage: bench_fsync [N, 100..100000000] [RATE > 0] [DIR]\n");
		return 2;
	}
	size_t n = (size_t)count;
	char path[4096];
	snprintf(path, sizeof(path), "%s/bench_fsync.XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "bench_fsync: %s: %s\n", path, strerror(errno));
		return 1;
	}
	static char buf[FRAMES_PER_COMMIT * FRAME];
	memset(buf, 0x5a, sizeof(buf));
	for (size_t i = 0; i < FILE_FRAMES; i += FRAMES_PER_COMMIT)
		if (pwrite(fd, buf, sizeof(buf), (off_t)(i * FRAME)) != (ssize_t)sizeof(buf))
			goto io_error;
	if (fsync(fd))
		goto io_error;

	double *lat = malloc(n * sizeof(*lat));
	if (!lat) {
		fprintf(stderr, "bench_fsync: out of memory\n");
		return 1;
	}
	struct rusage r0, r1;
	getrusage(RUSAGE_SELF, &r0);
	for (size_t i = 0; i < n; i++) {
		off_t off = (off_t)((i * FRAMES_PER_COMMIT) % (FILE_FRAMES - FRAMES_PER_COMMIT)) * FRAME;
		double t = now_us();
		if (pwrite(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf) || fdatasync(fd))
			goto io_error;
		lat[i] = now_us() - t;
		usleep(PAUSE_US);
	}
	getrusage(RUSAGE_SELF, &r1);
	double sys_us = (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1e6 +
			(double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
	close(fd);
	unlink(path);

	/* the commits span at most their own time plus a gap each */
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += lat[i];
	size_t cap = (size_t)(total * rate / 1e6) + n + 1;
	double *wait = malloc(cap * sizeof(*wait));
	if (!wait) {
		fprintf(stderr, "bench_fsync: out of memory\n");
		return 1;
	}
	size_t regs = group_commit(lat, n, rate, wait, cap);
	printf("%zu commits of %d x %d bytes + fdatasync in %s: %.1f us of system CPU each (the pause included)\n", n,
	       FRAMES_PER_COMMIT, FRAME, dir, sys_us / (double)n);
	print_dist("commit latency", lat, n);
	char what[96];
	snprintf(what, sizeof(what), "ideal group commit at %.0f/s, wait of %zu registrations", rate, regs);
	print_dist(what, wait, regs);
	free(lat);
	free(wait);
	return 0;

io_error:
	fprintf(stderr, "bench_fsync: %s: %s\n", path, strerror(errno));
	unlink(path);
	return 1;
}
