/*
 * sha256.h - SHA-256 (FIPS 180-4) for the compile report: the digests of
 * the input files and of every artifact written.
 *
 * Ownership: an rc_sha256 is a plain value; nothing is allocated.
 */
#ifndef RC_SHA256_H
#define RC_SHA256_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rc_sha256 {
	uint32_t h[8];
	uint64_t total;     /* bytes hashed so far */
	unsigned char block[64];
	size_t fill;        /* bytes waiting in block */
} rc_sha256;

void rc_sha256_init(rc_sha256 *s);
void rc_sha256_update(rc_sha256 *s, const void *data, size_t len);
/* The digest as 64 lower-case hex digits and a NUL. */
void rc_sha256_hex(rc_sha256 *s, char out[65]);

/* Hash a whole file: 0 with *size set, or -1 with errno set. */
int rc_sha256_file(const char *path, char out[65], uint64_t *size);

#endif /* RC_SHA256_H */
