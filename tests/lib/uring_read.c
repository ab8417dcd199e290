// SPDX-License-Identifier: GPL-2.0-only
/* Reads a whole file through io_uring (IORING_OP_READ), printing the bytes read, so a
 * test can check that io_uring reads of a watched file are reported. */
#include <fcntl.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	struct io_uring ring;
	long long total = 0;
	int fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) < 0 || io_uring_queue_init(4, &ring, 0)) {
		perror("uring_read");
		return 1;
	}
	for (;;) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
		struct io_uring_cqe *cqe;
		int res;

		io_uring_prep_read(sqe, fd, buf, sizeof(buf), total);
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe))
			return 1;
		res = cqe->res;
		io_uring_cqe_seen(&ring, cqe);
		if (res <= 0)
			break;
		total += res;
	}
	printf("%lld\n", total);
	io_uring_queue_exit(&ring);
	return 0;
}
