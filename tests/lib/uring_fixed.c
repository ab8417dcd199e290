// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring through registered (fixed) files, the paths io_uring_file_get never sees:
 *   uring_fixed register SRC       reads SRC through a file registered with
 *                                  IORING_REGISTER_FILES (IOSQE_FIXED_FILE)
 *   uring_fixed direct SRC         opens SRC with OPENAT straight into a fixed slot
 *                                  (no fd ever exists) and reads it from there
 *   uring_fixed write SRC DST      reads SRC plainly, writes it to DST with IORING_OP_WRITE
 *   uring_fixed send SRC IP PORT   reads SRC plainly, sends it with IORING_OP_SEND over a
 *                                  UDP socket connected to IP:PORT (bound here as well, so
 *                                  no ICMP error fails the sends)
 * Prints the bytes read (or written).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];

/* Reads the file in fixed slot 0 to its end; the bytes read, or -1. */
static long long read_slot(struct io_uring *ring)
{
	long long total = 0;

	for (;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;
		int res;

		io_uring_prep_read(sqe, 0, buf, sizeof(buf), total);
		sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_submit(ring);
		if (io_uring_wait_cqe(ring, &cqe))
			return -1;
		res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		if (res < 0)
			return -1;
		if (!res)
			return total;
		total += res;
	}
}

static int open_direct(struct io_uring *ring, const char *path)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	int fds[1] = { -1 }, res;

	if (io_uring_register_files(ring, fds, 1))
		return -1;
	sqe = io_uring_get_sqe(ring);
	io_uring_prep_openat_direct(sqe, AT_FDCWD, path, O_RDONLY, 0, 0);
	io_uring_submit(ring);
	if (io_uring_wait_cqe(ring, &cqe))
		return -1;
	res = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	return res < 0 ? -1 : 0;
}

static long long write_all(struct io_uring *ring, const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	long long total = 0;
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_write(sqe, out, buf, n, total);
		io_uring_submit(ring);
		if (io_uring_wait_cqe(ring, &cqe) || cqe->res != n)
			return -1;
		io_uring_cqe_seen(ring, cqe);
		total += n;
	}
	close(out);
	return n < 0 ? -1 : total;
}

static long long send_all(struct io_uring *ring, const char *src, const char *ip, int port)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	int in = open(src, O_RDONLY), rx = socket(AF_INET, SOCK_DGRAM, 0);
	int tx = socket(AF_INET, SOCK_DGRAM, 0);
	long long total = 0;
	ssize_t n;

	if (in < 0 || rx < 0 || tx < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1 ||
	    bind(rx, (struct sockaddr *)&to, sizeof(to)) ||
	    connect(tx, (struct sockaddr *)&to, sizeof(to)))
		return -1;
	while ((n = read(in, buf, 32768)) > 0) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
		struct io_uring_cqe *cqe;

		io_uring_prep_send(sqe, tx, buf, n, 0);
		io_uring_submit(ring);
		if (io_uring_wait_cqe(ring, &cqe) || cqe->res != n)
			return -1;
		io_uring_cqe_seen(ring, cqe);
		total += n;
	}
	return n < 0 ? -1 : total;
}

int main(int argc, char **argv)
{
	struct io_uring ring;
	long long total = -1;

	if (argc < 3 || io_uring_queue_init(4, &ring, 0)) {
		fprintf(stderr, "usage: uring_fixed register|direct SRC | write SRC DST\n");
		return 2;
	}
	if (!strcmp(argv[1], "register")) {
		int fd = open(argv[2], O_RDONLY);

		if (fd >= 0 && !io_uring_register_files(&ring, &fd, 1)) {
			close(fd);
			total = read_slot(&ring);
		}
	} else if (!strcmp(argv[1], "direct")) {
		if (!open_direct(&ring, argv[2]))
			total = read_slot(&ring);
	} else if (!strcmp(argv[1], "write") && argc == 4) {
		total = write_all(&ring, argv[2], argv[3]);
	} else if (!strcmp(argv[1], "send") && argc == 5) {
		total = send_all(&ring, argv[2], argv[3], atoi(argv[4]));
	}
	if (total < 0) {
		perror("uring_fixed");
		return 1;
	}
	printf("%lld\n", total);
	io_uring_queue_exit(&ring);
	return 0;
}
