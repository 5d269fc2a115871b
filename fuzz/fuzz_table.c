/*
 * fuzz_table.c - libFuzzer harness for the table reader (runtime/table_reader.c,
 * runtime/redir.h): the input is a .redirdb file.
 *
 * rd_table_open takes a path, so the input is written to a private temp
 * file.  Unless the input's last byte is odd, the harness first repairs the
 * header's file_size and both checksums (body, then header), so that the
 * fuzzer gets past them into the sections; odd inputs test the checks
 * themselves.  Then the table is opened, verified, and asked a fixed set
 * of requests, each with a roomy buffer and with one of several small ones.
 *
 * Must never crash, leak or hang.  Invariants asserted:
 *   - open returns RD_OK with a table, or an error code without one;
 *   - a lookup returns 0, a redirect status, 410 or a negative rd_error;
 *     RD_E_BUFFER sets `needed` above bufsize, and a retry with that size
 *     answers, or asks for still more room; a redirect's Location is NUL-terminated and
 *     location_len long; the reader writes nothing past bufsize.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/redir.h"
#include "runtime/table_format.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[96];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	if (dir[0])
		rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof dir, "/tmp/fuzz_table.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof path, "%s/t.redirdb", dir);
	atexit(cleanup);
	return 0;
}

static void repair(unsigned char *p, size_t size)
{
	if (size < RDB_HEADER_SIZE)
		return;
	rdb_header h;
	memcpy(&h, p, sizeof h);
	h.file_size = size;
	h.body_checksum = rdb_fnv64(RDB_FNV_OFFSET, p + RDB_HEADER_SIZE, size - RDB_HEADER_SIZE);
	memcpy(p, &h, sizeof h);
	h.header_checksum = rdb_fnv64(RDB_FNV_OFFSET, p, offsetof(rdb_header, header_checksum));
	memcpy(p, &h, sizeof h);
}

static int is_status(int st)
{
	return st == 0 || st == 301 || st == 302 || st == 303 || st == 307 || st == 308 || st == 410;
}

static const size_t all_sizes[] = { 0, 1, 8, 64, 4096 };
static const size_t one_size[] = { 64 };

static void ask_sizes(const rd_table *t, const char *host, const char *p, size_t plen,
                      const char *q, const size_t *sizes, size_t nsizes)
{
	size_t qlen = q ? strlen(q) : 0;
	for (size_t i = 0; i < nsizes; i++) {
		size_t bs = sizes[i];
		char *buf = malloc(bs + 1);
		memset(buf, 'Z', bs + 1);
		rd_result res;
		memset(&res, 0, sizeof res);
		int st = rd_table_lookup(t, host, p, plen, q, qlen, &res, bs ? buf : NULL, bs);
		if (bs < 4096 && buf[bs] != 'Z') {
			fprintf(stderr, "fuzz_table: lookup wrote past bufsize %zu\n", bs);
			abort();
		}
		if (st == RD_E_BUFFER) {
			if (res.needed <= bs) {
				fprintf(stderr, "fuzz_table: RD_E_BUFFER with needed %zu <= %zu\n", res.needed, bs);
				abort();
			}
			if (res.needed < (1u << 24)) {
				char *big = malloc(res.needed);
				rd_result r2;
				memset(&r2, 0, sizeof r2);
				int st2 = rd_table_lookup(t, host, p, plen, q, qlen, &r2, big, res.needed);
				/* the Location may need more room than the scratch space
				 * asked for first: a second RD_E_BUFFER must ask for more */
				if (st2 == RD_E_BUFFER && r2.needed <= res.needed) {
					fprintf(stderr, "fuzz_table: RD_E_BUFFER again with needed %zu\n", res.needed);
					abort();
				}
				free(big);
			}
		} else if (st >= 0) {
			if (!is_status(st)) {
				fprintf(stderr, "fuzz_table: lookup returned status %d\n", st);
				abort();
			}
			if (st != 0 && st != 410 && bs > 0 &&
			    (res.location_len >= bs || strlen(buf) != res.location_len)) {
				fprintf(stderr, "fuzz_table: Location length %zu does not match\n",
				        res.location_len);
				abort();
			}
			for (size_t k = 0; k < res.location_len && bs > 0; k++) {
				unsigned char c = (unsigned char)buf[k];
				if (c <= 0x20 || c >= 0x7f) {
					fprintf(stderr, "fuzz_table: Location byte 0x%02x\n", c);
					abort();
				}
			}
			rd_rule_info info;
			if (st != 0 && rd_table_rule_info(t, res.rule_id, &info) == RD_OK) {
				if (info.file)
					(void)strlen(info.file);
				if (info.owner)
					(void)strlen(info.owner);
				if (info.note)
					(void)strlen(info.note);
			}
		} else if (st < RD_E_INVAL) {
			fprintf(stderr, "fuzz_table: lookup returned unknown error %d\n", st);
			abort();
		}
		free(buf);
	}
}

/* Two buffer sizes per request: a roomy one, and one of the small ones
 * (each followed by a retry at the size asked for), the small one chosen by
 * `pick`, which the caller derives from the input, so that every size is
 * tried across inputs and each input is answered the same way every time. */
static void ask(const rd_table *t, const char *host, const char *p, size_t plen, const char *q,
                unsigned pick)
{
	size_t two[2] = { all_sizes[4], all_sizes[pick % 4] };
	ask_sizes(t, host, p, plen, q, two, 2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	unsigned char *copy = malloc(size ? size : 1);
	if (size)
		memcpy(copy, data, size);
	if (size > 0 && !(copy[size - 1] & 1))
		repair(copy, size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		abort();
	size_t done = 0;
	while (done < size) {
		ssize_t w = write(fd, copy + done, size - done);
		if (w <= 0)
			abort();
		done += (size_t)w;
	}
	close(fd);
	free(copy);

	rd_table *t = (rd_table *)1;
	rd_error err;
	int rc = rd_table_open(path, &t, &err);
	if ((rc == RD_OK) != (t != NULL) || (rc != RD_OK && err.code != rc)) {
		fprintf(stderr, "fuzz_table: open returned %d with table %p\n", rc, (void *)t);
		abort();
	}
	if (rc != RD_OK) {
		(void)strlen(err.message);
		(void)rd_strerror(rc);
		return 0;
	}
	(void)rd_table_verify(t, &err);
	(void)rd_table_nrules(t);
	/* which small buffer size each request gets: from the input's size and
	 * last byte (its low bit already chooses whether checksums are repaired) */
	unsigned pick = (unsigned)size + (size ? (unsigned)(data[size - 1] >> 1) : 0u);
	/* the last two reach wildcard host names ("*.example.com" and the
	 * like: several index roots, a subdomain in the Location) */
	static const char *const hosts[] = { NULL, "www.example.com", "OLD.Example.com:8080",
	                                     "a.b.blog.example.com", "x_y.example.org." };
	static const char *const paths[] = {
		"/", "/old-pricing", "/blog/2020/a%20b", "/x", "/docs/v1/intro", "/a/b/c/",
		"/%zz", "/careers", "/spring-sale", "/news/a", "/ABOUT-US", "/old/a/b", "/site",
		"/docs",
	};
	for (size_t h = 0; h < sizeof hosts / sizeof hosts[0]; h++)
		for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
			ask(t, hosts[h], paths[i], strlen(paths[i]), i % 2 ? "ref=ad&x=%41" : NULL,
			    pick + (unsigned)(h * 11 + i));
	/* a very long path: the reader's scratch space is the caller's buffer.
	 * One size (too small, then the size asked for) is enough here: each
	 * ask normalizes the 9,000 bytes again, and five sizes made this path
	 * most of the harness's time. */
	size_t ll = 9000;
	char *lp = malloc(ll);
	for (size_t i = 0; i < ll; i++)
		lp[i] = (i % 7 == 0) ? '/' : 'a';
	ask_sizes(t, "www.example.com", lp, ll, "q", one_size, 1);
	free(lp);
	rd_table_close(t);
	return 0;
}
