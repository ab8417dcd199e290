// SPDX-License-Identifier: GPL-2.0-only
/*
 * A static 32-bit (i386) program that reads the file named by argv[1] to the end through
 * int 0x80 compat syscalls, with no libc (gcc -m32 -static -nostdlib: no multilib
 * packages needed). Exits 0 when it read something. Issue 11 B5: on x86-64 the syscall
 * tracepoints do not fire for compat syscalls.
 */
static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}
static char buf[65536];
__attribute__((used)) static void start2(long *sp)
{
	char **argv = (char **)(sp + 1);
	long fd = sys3(5, (long)argv[1], 0, 0), n, total = 0;
	while ((n = sys3(3, fd, (long)buf, sizeof(buf))) > 0)
		total += n;
	sys3(1, total > 0 ? 0 : 1, 0, 0);
}
__asm__(".globl _start\n_start:\n\tmov %esp, %eax\n\tpush %eax\n\tcall start2\n");
