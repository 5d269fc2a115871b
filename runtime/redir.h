/*
 * redir.h - the public API of libredir's table reader: open a compiled
 * `.redirdb` file (redirc compile --target table) and answer requests from
 * it exactly as `redirc explain` answers them (spec sections 3 and 5).
 *
 *   rd_table *t;
 *   rd_error err;
 *   if (rd_table_open("site.redirdb", &t, &err) != RD_OK)
 *       fprintf(stderr, "%s\n", err.message);
 *   char loc[1024];
 *   rd_result res;
 *   int st = rd_table_lookup(t, "www.example.com", path, path_len,
 *                            query, query_len, &res, loc, sizeof loc);
 *   // st: 0 pass, 301..308 redirect (loc holds the Location), 410 gone,
 *   // < 0 an rd_error code (RD_E_BUFFER: res.needed says how much room)
 *   rd_rule_info info;  // only when wanted: where the rule was written
 *   if (st > 0 && rd_table_rule_info(t, res.rule_id, &info) == RD_OK)
 *       printf("%s:%u\n", info.file ? info.file : "?", info.line);
 *   rd_table_close(t);
 *
 * Opening maps the file and checks the header and the section bounds only:
 * its cost does not depend on the number of rules.  rd_table_verify()
 * checks the whole file's checksum, as a separate call.  Lookups are
 * thread-safe (the table is read-only after open) and allocate nothing.
 *
 * Link with `pkg-config --cflags --libs redir`.  The file format is
 * documented in doc/redirdb-format.md.
 */
#ifndef REDIR_H
#define REDIR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes: 0 success, negative failures. */
enum rd_error_code {
	RD_OK = 0,
	RD_E_IO = -1,        /* the file cannot be opened, read or mapped */
	RD_E_TRUNCATED = -2, /* the file is shorter than its header says */
	RD_E_MAGIC = -3,     /* not a .redirdb file */
	RD_E_VERSION = -4,   /* a format version this library does not read */
	RD_E_ENDIAN = -5,    /* written on a machine of the other byte order */
	RD_E_CORRUPT = -6,   /* a header field or a record is out of bounds */
	RD_E_CHECKSUM = -7,  /* rd_table_verify: the contents do not match */
	RD_E_NOMEM = -8,     /* out of memory (open only) */
	RD_E_BUFFER = -9,    /* lookup: the caller's buffer is too small */
	RD_E_INVAL = -10,    /* an argument is invalid (NULL table, ...) */
};

/* What went wrong, for a human: `code` and a message naming the file. */
typedef struct rd_error {
	int code;
	char message[256];
} rd_error;

/* A short fixed description of an error code. */
const char *rd_strerror(int code);

typedef struct rd_table rd_table;

/* Map and check a table.  On success *out owns the mapping (close it with
 * rd_table_close) and RD_OK is returned; otherwise *out is NULL, the error
 * code is returned and, if err is not NULL, filled in. */
int rd_table_open(const char *path, rd_table **out, rd_error *err);

/* Check the checksum of every byte of the file (cost: one pass over it). */
int rd_table_verify(const rd_table *t, rd_error *err);

void rd_table_close(rd_table *t);

/* Counts from the header. */
uint32_t rd_table_nrules(const rd_table *t);

/* The answer to one request.  Pointers point into the table's mapping and
 * stay valid until rd_table_close. */
typedef struct rd_result {
	int status;          /* 0 pass, 301 302 303 307 308, 410 */
	size_t location_len; /* bytes of the Location (0 for 410 and pass) */
	size_t needed;       /* RD_E_BUFFER: the buffer size that would do */
	uint32_t rule_id;    /* 0-based index of the rule in file order: pass it
	                        to rd_table_rule_info for its line, file, owner
	                        and note */
} rd_result;

/* Answer a request: `host` is the Host header as sent (any case, port
 * allowed) or NULL for none; `raw_path` and `raw_query` are the request's
 * bytes, still percent-encoded (`raw_query` NULL or empty: none).  The
 * Location is written NUL-terminated into buf.  Very long paths (over 4 KiB)
 * also use buf as scratch space.
 * Returns the status (0 pass), or RD_E_BUFFER (result->needed is set) or
 * RD_E_CORRUPT (a record points outside the file) or RD_E_INVAL. */
int rd_table_lookup(const rd_table *t, const char *host, const char *raw_path,
                    size_t path_len, const char *raw_query, size_t query_len,
                    rd_result *result, char *buf, size_t bufsize);

/* Where a rule comes from, and its owner and note (strings point into the
 * table's mapping and stay valid until rd_table_close). */
typedef struct rd_rule_info {
	uint32_t line;       /* source line of the rule (0 = unknown) */
	const char *file;    /* source file as the compiler opened it, or NULL */
	const char *owner;   /* the rule's owner, or NULL */
	const char *note;    /* the rule's note, or NULL */
} rd_rule_info;

/* The metadata of rule `rule_id` (rd_result.rule_id after a redirect).  It
 * lives apart from what lookups read, so asking for it costs a few cache
 * misses that a lookup does not pay.  RD_OK (a table without metadata gives
 * line 0 and NULLs), RD_E_INVAL (no such rule, NULL argument) or
 * RD_E_CORRUPT.  Thread-safe, allocates nothing. */
int rd_table_rule_info(const rd_table *t, uint32_t rule_id, rd_rule_info *info);

#ifdef __cplusplus
}
#endif

#endif /* REDIR_H */
