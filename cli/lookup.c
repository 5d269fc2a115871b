/*
 * lookup_cmd.c - `redirc lookup TABLE URL... [--host H]`: the lines of
 * `redirc explain`, answered by the table reader (runtime/redir.h).
 *
 * URL<TAB>STATUS<TAB>LOCATION<TAB>FILE:LINE, or URL<TAB>pass.  A table that
 * cannot be opened or fails its checksum is exit 2 with the reader's
 * specific message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/ir.h"
#include "runtime/redir.h"

int rc_cmd_lookup(const char *table, const char *const *urls, int nurls, const char *host);

/* What the operator can do about a table the reader refused. */
static const char *open_hint(int code)
{
	switch (code) {
	case RD_E_IO:
		return "expected a readable .redirdb file; a retry will not help until the path is fixed";
	case RD_E_NOMEM:
		return "a retry may help once memory is free";
	case RD_E_VERSION:
	case RD_E_ENDIAN:
		return "expected a table written by this version of 'redirc compile --target table' "
		       "on a machine of the same byte order; recompile it here, a retry will not help";
	default:
		return "expected a table written by 'redirc compile --target table'; recompile it, "
		       "a retry will not help";
	}
}

int rc_cmd_lookup(const char *table, const char *const *urls, int nurls, const char *host)
{
	if (nurls == 0) {
		fputs("redirc: error: lookup needs at least one URL (run 'redirc --help'; "
		      "a retry will not help)\n", stderr);
		return 2;
	}
	rd_table *t;
	rd_error err;
	if (rd_table_open(table, &t, &err) != RD_OK || rd_table_verify(t, &err) != RD_OK) {
		fprintf(stderr, "redirc: error: %s; %s\n", err.message, open_hint(err.code));
		rd_table_close(t);
		return 2;
	}
	rc_arena a;
	rc_arena_init(&a);
	size_t cap = 4096;
	char *buf = rc_xmalloc(cap);
	int st = 0;
	for (int i = 0; i < nurls && st == 0; i++) {
		const char *url = urls[i];
		char *uhost, *path, *query;
		size_t qlen;
		const char *why;
		if (rc_url_split(&a, url, strlen(url), &uhost, &path, &query, &qlen, &why) != 0) {
			fprintf(stderr, "redirc: error: invalid URL '%s': %s [bad-url] (a retry will not help)\n",
			        rc_quote(&a, url, strlen(url), 200), why);
			st = 2;
			break;
		}
		const char *h = uhost ? uhost : host;
		rd_result res;
		int r;
		while ((r = rd_table_lookup(t, h, path, strlen(path), query, qlen, &res, buf, cap)) ==
		       RD_E_BUFFER) {
			cap = res.needed > 2 * cap ? res.needed : 2 * cap;
			buf = rc_xrealloc(buf, cap);
		}
		if (r < 0) {
			fprintf(stderr, "redirc: error: %s: %s while answering '%s'; %s\n", table,
			        rd_strerror(r), rc_quote(&a, url, strlen(url), 200), open_hint(r));
			st = 2;
		} else if (r == 0) {
			rc_url_print(stdout, url);
			printf("\tpass\n");
		} else {
			/* the source line: from the cold metadata, only now */
			rd_rule_info info;
			if (rd_table_rule_info(t, res.rule_id, &info) != RD_OK) {
				fprintf(stderr, "redirc: error: %s: %s while answering '%s'; %s\n", table,
				        rd_strerror(RD_E_CORRUPT), rc_quote(&a, url, strlen(url), 200),
				        open_hint(RD_E_CORRUPT));
				st = 2;
				break;
			}
			rc_url_print(stdout, url);
			printf("\t%d\t%s\t%s:%u\n", r, r == 410 ? "" : buf,
			       info.file ? info.file : "?", info.line);
		}
	}
	free(buf);
	rc_arena_fini(&a);
	rd_table_close(t);
	return st;
}
