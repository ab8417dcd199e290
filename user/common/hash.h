/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hashing: FNV-1a for in-memory keys (fast, not collision resistant, never for anything
 * an attacker can steer into a security decision) and SHA-256 as lower-case hex for
 * identities that are printed or stored (config hash, evidence digests).
 */
#ifndef EXFILMON_HASH_H
#define EXFILMON_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_INIT 0xcbf29ce484222325ULL

/* 64-bit FNV-1a of len bytes, continuing from h (FNV1A64_INIT to start). */
uint64_t fnv1a64(const void *data, size_t len, uint64_t h);
/* 64-bit FNV-1a of a NUL-terminated string (NULL hashes as ""), continuing from h. */
uint64_t fnv1a64_str(const char *s, uint64_t h);

#define SHA256_HEX_LEN 65   /* 64 hex digits and the terminator */

/* Lower-case hex of n bytes into out, which holds 2n+1 bytes; always terminated. */
void hex_encode(const uint8_t *bin, size_t n, char *out);
/* Hex SHA-256 of len bytes into out. Returns 0, or -EIO when the digest failed (out is
 * then the empty string). */
int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

#endif
