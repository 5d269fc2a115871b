/*
 * tsv_csv.c - lists of exact redirects.
 *
 * TSV (MDN's _redirects.txt):  FROM<TAB>TO[<TAB>STATUS], '#' comments.
 * CSV (RFC 4180 quoting):      from,to[,status]   or the Cloudflare Bulk
 * Redirects columns            source_url,target_url,status_code,
 *                              preserve_query_string,include_subdomains,
 *                              subpath_matching,preserve_path_suffix
 * (developers.cloudflare.com/rules/url-forwarding/bulk-redirects/reference/
 * csv-file-format/).  A header line (first field not a path or URL) is
 * skipped.  A source_url without a scheme ("example.com/a") binds the rule
 * to that host; its query is dropped unless preserve_query_string is true.
 * include_subdomains=true binds the rule to the host and its subdomains
 * (`host H, *.H`: the wildcard admits one or more labels, as Cloudflare's
 * "any of its subdomains"); subpath_matching=true is refused (its ranking
 * against exact sources and the joining of the path rest are not
 * documented), so preserve_path_suffix, which only acts with it, never
 * changes an imported rule.
 * Every byte of a source or target is literal.
 */
#include "import/import.h"

#include <stdlib.h>
#include <string.h>

static int parse_status(const char *s, size_t n)
{
	if (n != 3)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	return atoi(s);
}

static int status_ok(int st)
{
	return st == 301 || st == 302 || st == 303 || st == 307 || st == 308;
}

static void literal_rule(imp_doc *doc, imp_rule *r, const char *from, size_t fn, uint32_t fcol,
                         const char *to, size_t tn, uint32_t tcol)
{
	if (imp_parse_source(doc, r, from, fn, fcol, 1) != 0) {
		r->has_pattern = 0;
		return;
	}
	imp_parse_target(doc, r, to, tn, tcol, 1, 0);
}

void imp_read_tsv(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	uint32_t lineno = 0;
	size_t pos = 0;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		pos += n + (nl ? 1 : 0);
		lineno++;
		if (n && line[n - 1] == '\r')
			n--;
		size_t i = 0;
		while (i < n && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == n)
			continue;
		if (line[i] == '#') {
			imp_comment(doc, line + i, n - i);
			continue;
		}
		imp_rule *r = imp_rule_new(doc, file, path, lineno, line, n);
		if (memchr(line, '\0', n)) {
			imp_refuse(doc, r, 1, (uint32_t)n, "a NUL byte in the line (a binary file?)");
			continue;
		}
		const char *t1 = memchr(line, '\t', n);
		if (!t1) {
			imp_refuse(doc, r, 1, (uint32_t)n, "no TAB, expected FROM<TAB>TO");
			continue;
		}
		size_t fn = (size_t)(t1 - line);
		const char *to = t1 + 1;
		size_t rest = n - fn - 1;
		const char *t2 = memchr(to, '\t', rest);
		size_t tn = t2 ? (size_t)(t2 - to) : rest;
		if (t2) {
			const char *st = t2 + 1;
			size_t sn = rest - tn - 1;
			int status = parse_status(st, sn);
			if (!status_ok(status)) {
				imp_refuse(doc, r, (uint32_t)(st - line) + 1, (uint32_t)sn,
				           "third field '%s', expected a status 301 302 303 307 308",
				           rc_quote(&doc->arena, st, sn, 40));
				continue;
			}
			r->status = status;
		}
		literal_rule(doc, r, line, fn, 1, to, tn, (uint32_t)(to - line) + 1);
	}
}

/* One CSV record: fields unquoted into the arena; returns the number of
 * fields, or -1 for an unterminated quote.  *next is past the record. */
static int csv_record(imp_doc *doc, const char *s, size_t n, size_t *next, uint32_t *lines,
                      char **f, size_t *fl, uint32_t *fcol, int max)
{
	int k = 0;
	size_t i = 0;
	uint32_t col = 1;
	*lines = 1;
	for (;;) {
		rc_buf b;
		rc_buf_init(&b);
		uint32_t start_col = col;
		if (i < n && s[i] == '"') {
			i++;
			col++;
			for (;;) {
				if (i >= n) {
					rc_buf_fini(&b);
					*next = n;
					return -1;
				}
				if (s[i] == '"') {
					if (i + 1 < n && s[i + 1] == '"') {
						rc_buf_addc(&b, '"');
						i += 2;
						col += 2;
						continue;
					}
					i++;
					col++;
					break;
				}
				if (s[i] == '\n') {
					(*lines)++;
					col = 0;
				}
				rc_buf_addc(&b, s[i++]);
				col++;
			}
			while (i < n && s[i] != ',' && s[i] != '\n')
				i++, col++; /* text after a closing quote: dropped */
		} else {
			while (i < n && s[i] != ',' && s[i] != '\n') {
				rc_buf_addc(&b, s[i++]);
				col++;
			}
		}
		size_t bl = b.len;
		while (bl && (b.data[bl - 1] == '\r'))
			bl--;
		if (k < max) {
			f[k] = rc_arena_strndup(&doc->arena, b.data ? b.data : "", bl);
			fl[k] = bl;
			fcol[k] = start_col;
		}
		k++;
		rc_buf_fini(&b);
		if (i < n && s[i] == ',') {
			i++;
			col++;
			continue;
		}
		*next = i < n ? i + 1 : n;
		return k;
	}
}

static int csv_true(const char *s, size_t n)
{
	return (n == 4 && strncasecmp(s, "true", 4) == 0) || (n == 1 && s[0] == '1');
}

void imp_read_csv(imp_doc *doc, int32_t file, const char *path, const char *text, size_t len)
{
	uint32_t lineno = 1;
	size_t pos = 0;
	int first = 1;
	while (pos < len) {
		const char *rec = text + pos;
		size_t next = 0;
		uint32_t lines = 1;
		char *f[8];
		size_t fl[8];
		uint32_t fc[8];
		const char *nl = memchr(rec, '\n', len - pos);
		size_t n1 = nl ? (size_t)(nl - rec) : len - pos;
		size_t n1t = n1 && rec[n1 - 1] == '\r' ? n1 - 1 : n1;
		size_t lead = 0;
		while (lead < n1t && (rec[lead] == ' ' || rec[lead] == '\t'))
			lead++;
		if (lead == n1t || rec[lead] == '#') {
			if (lead < n1t)
				imp_comment(doc, rec + lead, n1t - lead);
			pos += n1 + (nl ? 1 : 0);
			lineno++;
			continue;
		}
		int nf = csv_record(doc, rec, len - pos, &next, &lines, f, fl, fc, 8);
		uint32_t here = lineno;
		pos += next;
		lineno += lines;
		int header = first && nf >= 2 && f[0][0] != '/' &&
		             (strncasecmp(f[0], "source", 6) == 0 || strncasecmp(f[0], "from", 4) == 0);
		first = 0;
		if (header)
			continue;
		imp_rule *r = imp_rule_new(doc, file, path, here, rec, n1t);
		if (nf < 0) {
			imp_refuse(doc, r, 1, (uint32_t)n1t, "unterminated quoted field, expected a closing '\"'");
			continue;
		}
		if (memchr(rec, '\0', next)) {
			imp_refuse(doc, r, 1, (uint32_t)n1t, "a NUL byte in the record (a binary file?)");
			continue;
		}
		if (nf < 2 || nf > 7) {
			imp_refuse(doc, r, 1, (uint32_t)n1t,
			           "%d fields, expected from,to[,status] or the 7 Bulk Redirects columns", nf);
			continue;
		}
		if (nf >= 3 && fl[2]) {
			int st = parse_status(f[2], fl[2]);
			if (!status_ok(st)) {
				imp_refuse(doc, r, fc[2], (uint32_t)fl[2],
				           "status '%s', expected 301 302 303 307 308",
				           rc_quote(&doc->arena, f[2], fl[2], 40));
				continue;
			}
			r->status = st;
		}
		const char *src = f[0];
		size_t sn = fl[0];
		uint32_t scol = fc[0];
		int bulk = src[0] != '/';
		if (bulk) {
			/* Cloudflare Bulk Redirects: [scheme://]host/path */
			size_t skip = 0;
			if (sn >= 8 && strncasecmp(src, "https://", 8) == 0)
				skip = 8;
			else if (sn >= 7 && strncasecmp(src, "http://", 7) == 0)
				skip = 7;
			if (skip) {
				imp_refuse(doc, r, scol, (uint32_t)sn, "source URL '%s' names a scheme: it "
				           "matches only that scheme, which the language cannot express",
				           rc_quote(&doc->arena, src, sn, 80));
				continue;
			}
			const char *slash = memchr(src, '/', sn);
			size_t hl = slash ? (size_t)(slash - src) : sn;
			int ok = imp_host_is_valid(src, hl);
			if (!ok) {
				imp_refuse(doc, r, scol, (uint32_t)sn, "source '%s' is neither a path nor "
				           "host/path", rc_quote(&doc->arena, src, sn, 80));
				continue;
			}
			char *h = rc_arena_strndup(&doc->arena, src, hl);
			for (char *c = h; *c; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c - 'A' + 'a');
			r->host = h;
			src = slash ? slash : "/";
			scol += (uint32_t)hl;
			sn = slash ? sn - hl : 1;
			r->query = nf >= 4 && csv_true(f[3], fl[3]) ? IMP_QUERY_KEEP : IMP_QUERY_DROP;
			/* include_subdomains: the host and every subdomain of it,
			 * written `host H, *.H { ... }`; the precedence (exact host
			 * first, then the longer host) is an order (platform.c) */
			r->subdomains = nf >= 5 && csv_true(f[4], fl[4]);
			if (r->subdomains && strspn(h, "0123456789.") == strlen(h)) {
				/* "*.3" or "*.10.0.0.1": a wildcard over an address is no
				 * host name (the language refuses it) */
				imp_refuse(doc, r, fc[4], (uint32_t)fl[4], "include_subdomains on '%s', which "
				           "is an address or a number, not a domain: it has no subdomains", h);
				continue;
			}
			if (nf >= 6 && csv_true(f[5], fl[5])) {
				imp_refuse(doc, r, fc[5], (uint32_t)fl[5], "subpath_matching: Cloudflare "
				           "documents neither how such a source ranks against an exact one "
				           "that also matches a request nor how the rest of the path joins "
				           "a target without a final '/', so no exact translation is known");
				continue;
			}
		} else if (nf >= 4) {
			imp_refuse(doc, r, fc[3], (uint32_t)fl[3], "a fourth column with a path source, "
			           "expected from,to[,status]");
			continue;
		}
		literal_rule(doc, r, src, sn, scol, f[1], fl[1], fc[1]);
	}
}
