/*
 * table_client.c - a client of the installed libredir API (includes only
 * "redir.h"), used by tests/e2e/test_table.py.
 *
 *   table_client TABLE < requests
 *
 * Each input line is `URL` or `URL<TAB>HOST`; each output line is what
 * `redirc explain` prints: URL<TAB>STATUS<TAB>LOCATION<TAB>FILE:LINE or
 * URL<TAB>pass.  Exit 2 when the table cannot be opened or verified.
 */
#include "runtime/redir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: table_client TABLE < requests\n");
		return 2;
	}
	rd_table *t;
	rd_error err;
	if (rd_table_open(argv[1], &t, &err) != RD_OK || rd_table_verify(t, &err) != RD_OK) {
		fprintf(stderr, "table_client: %s\n", err.message);
		rd_table_close(t);
		return 2;
	}
	char line[65536];
	char small[16]; /* start small: exercises RD_E_BUFFER and the retry */
	char *buf = small;
	size_t cap = sizeof small;
	int st = 0;
	while (fgets(line, sizeof line, stdin)) {
		size_t n = strcspn(line, "\r\n");
		line[n] = '\0';
		char *host = NULL, *tab = strchr(line, '\t');
		if (tab) {
			*tab = '\0';
			host = tab + 1;
		}
		const char *url = line, *p = line;
		char hostbuf[1024];
		size_t skip = strncasecmp(p, "http://", 7) == 0 ? 7 : strncasecmp(p, "https://", 8) == 0 ? 8 : 0;
		size_t end = strcspn(url, "#");
		if (skip) {
			size_t hl = strcspn(p + skip, "/?#");
			if (hl >= sizeof hostbuf)
				hl = sizeof hostbuf - 1;
			memcpy(hostbuf, p + skip, hl);
			hostbuf[hl] = '\0';
			host = hostbuf;
			p += skip + hl;
		}
		const char *stop = url + end;
		const char *q = memchr(p, '?', (size_t)(stop - p));
		const char *path = p;
		size_t plen = (size_t)((q ? q : stop) - p);
		if (plen == 0) {
			path = "/";
			plen = 1;
		}
		size_t qlen = q ? (size_t)(stop - q - 1) : 0;
		rd_result res;
		int r;
		while ((r = rd_table_lookup(t, host, path, plen, q ? q + 1 : NULL, qlen, &res, buf, cap)) ==
		       RD_E_BUFFER) {
			cap = res.needed;
			char *nb = malloc(cap);
			if (!nb)
				return 2;
			if (buf != small)
				free(buf);
			buf = nb;
		}
		if (r < 0) {
			fprintf(stderr, "table_client: %s: %s\n", url, rd_strerror(r));
			st = 2;
			continue;
		}
		rd_rule_info info;
		if (r == 0) {
			printf("%s\tpass\n", url);
		} else if (rd_table_rule_info(t, res.rule_id, &info) != RD_OK) {
			fprintf(stderr, "table_client: %s: rule %u: no metadata\n", url, (unsigned)res.rule_id);
			st = 2;
		} else {
			printf("%s\t%d\t%s\t%s:%u\n", url, r, r == 410 ? "" : buf,
			       info.file ? info.file : "?", (unsigned)info.line);
		}
	}
	if (buf != small)
		free(buf);
	rd_table_close(t);
	return st;
}
