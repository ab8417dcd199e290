// SPDX-License-Identifier: GPL-2.0-only
/*
 * Workload driver for bench/run.sh: runs one workload for a fixed number of operations,
 * pinned to one CPU, and prints the nanoseconds per operation (CLOCK_MONOTONIC around
 * the measured loop only, after a short warm-up, so process start-up is not counted).
 * Peers of the network workloads run in a child pinned to another CPU. A few helpers
 * build the fixtures (trees of small files) and load the machine for the memory and
 * burst measurements.
 *
 * usage: workloads [-c CPU] [-s] [-l LOGINUID] [-n OPS] WORKLOAD [ARG...]
 *   -c CPU  pin to CPU (peer children go to the next CPU)
 *   -s      start a fresh audit login session first (loginuid 1000), as a login would
 *   -l UID  the same with that loginuid
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES 16384
#define DGRAM_BYTES 1024
#define SMALL_FILE_READ 2048

static int cpu = -1;
static long ops = -1;
static const char *loginuid;

static void die(const char *what)
{
	fprintf(stderr, "workloads: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pin(int c)
{
	cpu_set_t set;
	int n = sysconf(_SC_NPROCESSORS_ONLN);

	if (c < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(c % (n > 0 ? n : 1), &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void report(const char *name, uint64_t t0, uint64_t t1, long n)
{
	printf("%s %.1f\n", name, (double)(t1 - t0) / (double)n);
}

/* Writing a uid to loginuid from an unset one opens a new audit session, as pam_loginuid
 * does at login, so the workload is attributed to a person like a support engineer's. */
static void new_session(void)
{
	int fd = open("/proc/self/loginuid", O_WRONLY);
	size_t n = strlen(loginuid);

	if (fd < 0 || write(fd, loginuid, n) != (ssize_t)n)
		die("set loginuid");
	close(fd);
}

static unsigned session_id(void)
{
	unsigned id = 0;
	FILE *f = fopen("/proc/self/sessionid", "r");

	if (!f || fscanf(f, "%u", &id) != 1)
		die("read sessionid");
	fclose(f);
	return id;
}

/* Reads the file sequentially in pieces of size, rewinding at the end. */
static int wl_read(int argc, char **argv, size_t size)
{
	static char buf[4096];
	int fd;
	uint64_t t0;

	if (argc < 1)
		return 2;
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		die(argv[0]);
	for (long i = 0; i < ops / 10 + 1; i++)
		if (read(fd, buf, size) <= 0)
			lseek(fd, 0, SEEK_SET);
	t0 = now_ns();
	for (long i = 0; i < ops; i++)
		if (read(fd, buf, size) <= 0)
			lseek(fd, 0, SEEK_SET);
	report(size == 4096 ? "read4k" : "read64", t0, now_ns(), ops);
	close(fd);
	return 0;
}

static int wl_read4k(int argc, char **argv)
{
	return wl_read(argc, argv, 4096);
}

static int wl_read64(int argc, char **argv)
{
	return wl_read(argc, argv, 64);
}

/* open + read(2 KiB) + close of DIR/f0 .. DIR/f(COUNT-1), ops times in total. */
static int wl_openclose(int argc, char **argv)
{
	char path[4096], buf[SMALL_FILE_READ];
	long files;
	uint64_t t0;

	if (argc < 2)
		return 2;
	files = atol(argv[1]);
	if (files <= 0)
		return 2;
	t0 = now_ns();
	for (long i = 0; i < ops; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", argv[0], i % files);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		if (read(fd, buf, sizeof(buf)) < 0)
			die("read");
		close(fd);
	}
	report("openclose", t0, now_ns(), ops);
	return 0;
}

static int wl_getppid(int argc, char **argv)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < ops; i++)
		syscall(SYS_getppid);
	report("getppid", t0, now_ns(), ops);
	return 0;
}

/* fork + exec of PROGRAM (default /bin/true) + wait. */
static int wl_exec(int argc, char **argv)
{
	char *prog = argc > 0 ? argv[0] : "/bin/true";
	char *args[] = { prog, NULL };
	uint64_t t0 = now_ns();

	for (long i = 0; i < ops; i++) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv(prog, args);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			die("exec child");
	}
	report("exec", t0, now_ns(), ops);
	return 0;
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "workloads: bad address %s\n", ip);
		exit(2);
	}
	return a;
}

static int listen_on(const char *ip, int port, int type)
{
	struct sockaddr_in a = addr_of(ip, port);
	int one = 1, s = socket(AF_INET, type, 0);

	if (s < 0)
		die("socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The machine is shared with test suites that briefly hold the same service port. */
	for (int tries = 0; bind(s, (struct sockaddr *)&a, sizeof(a)); tries++) {
		if (errno != EADDRINUSE || tries == 300)
			die("bind");
		usleep(100000);
	}
	if (type == SOCK_STREAM && listen(s, 8))
		die("listen");
	return s;
}

static void write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w <= 0)
			die("write");
		buf += w;
		n -= w;
	}
}

/* Reads exactly total bytes (or to EOF); returns bytes read. */
static uint64_t read_total(int fd, uint64_t total)
{
	static char buf[CHUNK_BYTES];
	uint64_t got = 0;

	while (got < total) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0)
			break;
		got += r;
	}
	return got;
}

/*
 * The peer of a TCP workload, in a child on the other CPU. A "source" peer sends chunks
 * (the client downloads customer records); a "sink" peer reads them and answers one byte
 * when all arrived (the client uploads).
 */
static pid_t tcp_peer(int ls, int sending, uint64_t total)
{
	static char chunk[CHUNK_BYTES];
	pid_t pid = fork();
	int s;

	if (pid)
		return pid;
	pin(cpu + 1);
	s = accept(ls, NULL, NULL);
	if (s < 0)
		die("accept");
	if (sending) {
		for (uint64_t sent = 0; sent < total; sent += CHUNK_BYTES)
			write_all(s, chunk, CHUNK_BYTES);
	} else {
		read_total(s, total);
		write_all(s, "k", 1);
	}
	_exit(0);
}

/* tcp download|upload IP PORT: ops chunks of 16 KiB through loopback TCP. */
static int wl_tcp(int argc, char **argv)
{
	static char chunk[CHUNK_BYTES];
	uint64_t total = (uint64_t)ops * CHUNK_BYTES, t0;
	int download, ls, s, st;
	struct sockaddr_in a;
	pid_t peer;

	if (argc < 3)
		return 2;
	download = !strcmp(argv[0], "download");
	ls = listen_on(argv[1], atoi(argv[2]), SOCK_STREAM);
	peer = tcp_peer(ls, download, total);
	close(ls);
	a = addr_of(argv[1], atoi(argv[2]));
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	t0 = now_ns();
	if (download) {
		if (read_total(s, total) != total)
			die("short download");
	} else {
		for (long i = 0; i < ops; i++)
			write_all(s, chunk, CHUNK_BYTES);
		if (read_total(s, 1) != 1)
			die("no upload ack");
	}
	report(download ? "tcp_source" : "tcp_egress", t0, now_ns(), ops);
	close(s);
	waitpid(peer, &st, 0);
	return 0;
}

/* udp IP PORT: ops unconnected sendto() datagrams of 1 KiB; a child drains them. */
static int wl_udp(int argc, char **argv)
{
	static char dgram[DGRAM_BYTES];
	struct sockaddr_in a;
	int rs, s, st;
	pid_t peer;
	uint64_t t0;

	if (argc < 2)
		return 2;
	a = addr_of(argv[0], atoi(argv[1]));
	rs = listen_on(argv[0], atoi(argv[1]), SOCK_DGRAM);
	peer = fork();
	if (peer == 0) {
		pin(cpu + 1);
		while (recv(rs, dgram, sizeof(dgram), 0) > 1)
			;
		_exit(0);
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0)
		die("socket");
	t0 = now_ns();
	for (long i = 0; i < ops; i++)
		if (sendto(s, dgram, sizeof(dgram), 0, (struct sockaddr *)&a, sizeof(a)) < 0 &&
		    errno != ENOBUFS)
			die("sendto");
	report("udp", t0, now_ns(), ops);
	/* A one-byte datagram tells the drain to stop. */
	sendto(s, dgram, 1, 0, (struct sockaddr *)&a, sizeof(a));
	waitpid(peer, &st, 0);
	return 0;
}

/* mkfiles DIR COUNT BYTES: fixture tree of COUNT files f0.. of BYTES each. */
static int wl_mkfiles(int argc, char **argv)
{
	static char buf[65536];
	char path[4096];
	long count, bytes;

	if (argc < 3)
		return 2;
	count = atol(argv[1]);
	bytes = atol(argv[2]);
	if (bytes > (long)sizeof(buf))
		return 2;
	memset(buf, 'x', sizeof(buf));
	mkdir(argv[0], 0755);
	for (long i = 0; i < count; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/f%ld", argv[0], i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			die(path);
		write_all(fd, buf, bytes);
		close(fd);
	}
	return 0;
}

/* Waits until stdin closes or the process is signalled. */
static void hold(void)
{
	char c;

	while (read(0, &c, 1) > 0)
		;
}

/* sleepers COUNT: COUNT children that pause until their parent is killed; prints "ready"
 * and holds until stdin closes, then kills them all. */
static int wl_sleepers(int argc, char **argv)
{
	long count = argc > 0 ? atol(argv[0]) : 0;
	pid_t *kids = calloc(count > 0 ? count : 1, sizeof(*kids));

	if (!kids)
		die("calloc");
	for (long i = 0; i < count; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork");
		if (kids[i] == 0) {
			pause();
			_exit(0);
		}
	}
	printf("ready\n");
	fflush(stdout);
	hold();
	for (long i = 0; i < count; i++)
		kill(kids[i], SIGKILL);
	for (long i = 0; i < count; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

/* Opens DIR/f<first> .. f<first+count-1> and keeps them open until stdin closes. */
static void hold_files(const char *dir, long first, long count)
{
	char path[4096];

	for (long i = first; i < first + count; i++) {
		snprintf(path, sizeof(path), "%s/f%ld", dir, i);
		if (open(path, O_RDONLY) < 0)
			die(path);
	}
}

/*
 * holdopen DIR COUNT: keeps DIR/f0 .. f(COUNT-1) open until stdin closes, spread over as
 * many processes as the open-files limit needs (root cannot always raise it here).
 */
static int wl_holdopen(int argc, char **argv)
{
	struct rlimit rl;
	long count, per, done = 0;
	int ready[2];
	char c;

	if (argc < 2 || pipe(ready))
		return 2;
	count = atol(argv[1]);
	if (getrlimit(RLIMIT_NOFILE, &rl))
		die("getrlimit");
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	per = (long)rl.rlim_cur - 64;
	for (; done < count; done += per) {
		long n = count - done < per ? count - done : per;
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			hold_files(argv[0], done, n);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			hold();
			_exit(0);
		}
	}
	for (long i = 0; i < (count + per - 1) / per; i++)
		if (read(ready[0], &c, 1) != 1)
			die("holdopen child");
	printf("ready\n");
	fflush(stdout);
	hold();
	while (wait(NULL) > 0)
		;
	return 0;
}

/*
 * burst FILE PROCS: PROCS processes at once each read FILE in 4 KiB pieces, ops reads in
 * total (split evenly); each child opens the file itself so the ring also sees opens,
 * forks and exits. Prints the bytes read in total, which the sensor must match exactly.
 */
static int wl_burst(int argc, char **argv)
{
	long procs, per;
	uint64_t total = 0;
	int pfd[2];

	if (argc < 2 || (procs = atol(argv[1])) <= 0 || pipe(pfd))
		return 2;
	per = ops / procs;
	for (long p = 0; p < procs; p++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			static char buf[4096];
			uint64_t got = 0;
			int fd = open(argv[0], O_RDONLY);

			if (fd < 0)
				die(argv[0]);
			for (long i = 0; i < per; i++) {
				ssize_t r = read(fd, buf, sizeof(buf));

				if (r <= 0) {
					lseek(fd, 0, SEEK_SET);
					r = read(fd, buf, sizeof(buf));
				}
				got += r > 0 ? r : 0;
			}
			if (write(pfd[1], &got, sizeof(got)) != sizeof(got))
				_exit(1);
			_exit(0);
		}
	}
	close(pfd[1]);
	for (long p = 0; p < procs; p++) {
		uint64_t got;

		if (read(pfd[0], &got, sizeof(got)) == sizeof(got))
			total += got;
	}
	while (wait(NULL) > 0)
		;
	printf("%llu %u\n", (unsigned long long)total, session_id());
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_size;
}

/*
 * alertlat FILE BYTES ALERTS: reads BYTES of FILE as fast as it can (crossing a bulk
 * collection threshold set just below BYTES), then waits for the alerts file to grow and
 * prints the milliseconds from the last read to the line written. The wait polls every
 * 0.2 ms, far below what is measured.
 */
static int wl_alertlat(int argc, char **argv)
{
	static char buf[65536];
	uint64_t want, got = 0, t0;
	off_t before;
	int fd;

	if (argc < 3)
		return 2;
	want = strtoull(argv[1], NULL, 10);
	before = file_size(argv[2]);
	fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		die(argv[0]);
	while (got < want) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r <= 0) {
			lseek(fd, 0, SEEK_SET);
			continue;
		}
		got += r;
	}
	t0 = now_ns();
	while (file_size(argv[2]) <= before) {
		if (now_ns() - t0 > 30000000000ULL) {
			fprintf(stderr, "workloads: no alert within 30 s\n");
			return 1;
		}
		usleep(200);
	}
	printf("alertlat %.2f\n", (double)(now_ns() - t0) / 1e6);
	return 0;
}

struct workload {
	const char *name;
	int (*run)(int argc, char **argv);
	long default_ops;
	const char *args;
};

static const struct workload workloads[] = {
	{ "read4k", wl_read4k, 100000, "FILE" },
	{ "read64", wl_read64, 100000, "FILE" },
	{ "openclose", wl_openclose, 10000, "DIR COUNT" },
	{ "getppid", wl_getppid, 200000, "" },
	{ "exec", wl_exec, 40, "[PROGRAM]" },
	{ "tcp", wl_tcp, 20000, "download|upload IP PORT" },
	{ "udp", wl_udp, 50000, "IP PORT" },
	{ "mkfiles", wl_mkfiles, 0, "DIR COUNT BYTES" },
	{ "sleepers", wl_sleepers, 0, "COUNT" },
	{ "holdopen", wl_holdopen, 0, "DIR COUNT" },
	{ "burst", wl_burst, 1000000, "FILE PROCS" },
	{ "alertlat", wl_alertlat, 0, "FILE BYTES ALERTS" },
};

static void usage(void)
{
	fprintf(stderr, "usage: workloads [-c CPU] [-s] [-l LOGINUID] [-n OPS] WORKLOAD [ARG...]\n");
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
		fprintf(stderr, "  %-10s %s\n", workloads[i].name, workloads[i].args);
}

int main(int argc, char **argv)
{
	int opt, rc;

	while ((opt = getopt(argc, argv, "+c:sl:n:")) != -1) {
		switch (opt) {
		case 'c':
			cpu = atoi(optarg);
			break;
		case 's':
			loginuid = "1000";
			break;
		case 'l':
			loginuid = optarg;
			break;
		case 'n':
			ops = atol(optarg);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (optind >= argc) {
		usage();
		return 2;
	}
	for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
		const struct workload *w = &workloads[i];

		if (strcmp(argv[optind], w->name))
			continue;
		if (ops <= 0)
			ops = w->default_ops;
		if (loginuid)
			new_session();
		pin(cpu);
		rc = w->run(argc - optind - 1, argv + optind + 1);
		if (rc == 2)
			usage();
		return rc;
	}
	usage();
	return 2;
}
