/*
 * logparse.c - access log lines as requests (logparse.h).
 */
#include <stdlib.h>
#include <string.h>

#include "compiler/logparse.h"
#include "compiler/util.h"
#include "runtime/match.h"

static const char *const field_names[RC_FIELD_COUNT] = {
	"path", "request", "status", "time", "host", "location",
};

const char *rc_log_field_name(enum rc_log_field k)
{
	return (unsigned)k < RC_FIELD_COUNT ? field_names[k] : "bug: unknown field";
}

void rc_log_fields_default(rc_log_fields *f)
{
	f->name[RC_FIELD_PATH] = "request_uri";
	f->name[RC_FIELD_REQUEST] = "request";
	f->name[RC_FIELD_STATUS] = "status";
	f->name[RC_FIELD_TIME] = "time_iso8601";
	f->name[RC_FIELD_HOST] = "host";
	f->name[RC_FIELD_LOCATION] = "sent_http_location";
}

int rc_log_fields_set(rc_log_fields *f, const char *spec)
{
	const char *eq = strchr(spec, '=');
	if (!eq || eq == spec)
		return -1;
	for (int k = 0; k < RC_FIELD_COUNT; k++)
		if (strlen(field_names[k]) == (size_t)(eq - spec) &&
		    memcmp(field_names[k], spec, (size_t)(eq - spec)) == 0) {
			f->name[k] = eq[1] ? eq + 1 : NULL; /* "host=" : not logged */
			return 0;
		}
	return -1;
}

void rc_log_parser_init(rc_log_parser *p, enum rc_log_format format, const rc_log_fields *f)
{
	memset(p, 0, sizeof *p);
	p->format = format;
	if (f)
		p->fields = *f;
	else
		rc_log_fields_default(&p->fields);
	p->scratch_cap = 4096;
	p->scratch = rc_xmalloc(p->scratch_cap);
}

void rc_log_parser_fini(rc_log_parser *p)
{
	free(p->scratch);
}

/* ---- time -------------------------------------------------------------- */

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int64_t civil_seconds(int y, int mo, int d, int h, int mi, int s)
{
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return INT64_MIN;
	return days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + s;
}

/* "+hhmm", "-hh:mm", "Z": the offset in seconds, or -1 on nonsense (written
 * into *off; returns 0/-1). */
static int zone_offset(const char *s, size_t n, int64_t *off)
{
	if (n == 1 && (s[0] == 'Z' || s[0] == 'z')) {
		*off = 0;
		return 0;
	}
	if (n < 5 || (s[0] != '+' && s[0] != '-'))
		return -1;
	int h, m;
	size_t mpos = s[3] == ':' ? 4 : 3;
	if (mpos + 2 != n || digits(s + 1, 2, &h) || digits(s + mpos, 2, &m))
		return -1;
	*off = (s[0] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
	return 0;
}

int64_t rc_log_time_clf(const char *s, size_t n)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	/* 10/Oct/2000:13:55:36 -0700 */
	if (n < 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
	    s[20] != ' ')
		return INT64_MIN;
	int d, y, h, mi, sec, mo = 0;
	for (int i = 0; i < 12; i++)
		if (memcmp(s + 3, months + 3 * i, 3) == 0)
			mo = i + 1;
	if (!mo || digits(s, 2, &d) || digits(s + 7, 4, &y) || digits(s + 12, 2, &h) ||
	    digits(s + 15, 2, &mi) || digits(s + 18, 2, &sec))
		return INT64_MIN;
	int64_t off, t = civil_seconds(y, mo, d, h, mi, sec);
	if (t == INT64_MIN || zone_offset(s + 21, n - 21, &off) != 0)
		return INT64_MIN;
	return t - off;
}

int64_t rc_log_time_iso(const char *s, size_t n)
{
	/* 2000-10-10T13:55:36[.fff](Z|+hh:mm) */
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
	    s[16] != ':')
		return INT64_MIN;
	int y, mo, d, h, mi, sec;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return INT64_MIN;
	size_t z = 19;
	if (s[z] == '.')
		for (z++; z < n && s[z] >= '0' && s[z] <= '9'; z++)
			;
	int64_t off, t = civil_seconds(y, mo, d, h, mi, sec);
	if (t == INT64_MIN || zone_offset(s + z, n - z, &off) != 0)
		return INT64_MIN;
	return t - off;
}

/* ---- the request target ---------------------------------------------- */

/* Split a request target (origin or absolute form) into host, path, query. */
static int split_target(const char *t, size_t n, rc_log_entry *e)
{
	if (n >= 7 && (memcmp(t, "http://", 7) == 0 || (n >= 8 && memcmp(t, "https://", 8) == 0))) {
		size_t skip = t[4] == 's' ? 8 : 7;
		const char *h = t + skip;
		size_t hl = 0;
		while (skip + hl < n && h[hl] != '/' && h[hl] != '?')
			hl++;
		e->host = h;
		e->host_len = hl;
		t = h + hl;
		n -= skip + hl;
		if (n == 0) {
			t = "/";
			n = 1;
		}
	}
	if (n == 0 || t[0] != '/')
		return -1;
	const char *q = memchr(t, '?', n);
	if (q) {
		e->path = t;
		e->path_len = (size_t)(q - t);
		e->query = q + 1;
		e->query_len = n - e->path_len - 1;
	} else {
		e->path = t;
		e->path_len = n;
	}
	return 0;
}

/* "METHOD TARGET PROTOCOL" (the protocol may be missing: HTTP/0.9). */
static int split_request_line(const char *r, size_t n, rc_log_entry *e)
{
	const char *sp = memchr(r, ' ', n);
	if (!sp)
		return -1;
	const char *t = sp + 1;
	size_t rest = n - (size_t)(t - r);
	const char *sp2 = memchr(t, ' ', rest);
	size_t tl = sp2 ? (size_t)(sp2 - t) : rest;
	return split_target(t, tl, e);
}

static int parse_status(const char *s, size_t n, int *status)
{
	if (n != 3 || digits(s, 3, status) != 0 || *status < 100)
		return -1;
	return 0;
}

/* %h %l %u [%t] "%r" %>s %b ... */
static int parse_clf(const char *line, size_t len, rc_log_entry *e, const char **why)
{
	const char *end = line + len;
	const char *lb = memchr(line, '[', len);
	if (!lb) {
		*why = "expected '[time]' after the client, ident and user fields";
		return -1;
	}
	const char *rb = memchr(lb, ']', (size_t)(end - lb));
	if (!rb || rb + 3 > end || rb[1] != ' ' || rb[2] != '"') {
		*why = "expected '] \"' after the time";
		return -1;
	}
	const char *req = rb + 3;
	/* the request ends at the '"' followed by " NNN " (a '"' inside it is
	 * written \" by Apache and \x22 by nginx) */
	const char *q = req;
	for (;;) {
		q = memchr(q, '"', (size_t)(end - q));
		if (!q || q + 5 > end) {
			*why = "expected '\"REQUEST\" STATUS'";
			return -1;
		}
		if (q[-1] != '\\' && q[1] == ' ' && q[2] >= '0' && q[2] <= '9')
			break;
		q++;
	}
	const char *st = q + 2;
	size_t sl = 0;
	while (st + sl < end && st[sl] != ' ')
		sl++;
	if (parse_status(st, sl, &e->status) != 0) {
		*why = "expected a three-digit status after the request";
		return -1;
	}
	if (split_request_line(req, (size_t)(q - req), e) != 0) {
		*why = "expected a request line 'METHOD /path PROTOCOL'";
		return -1;
	}
	e->time = rc_log_time_clf(lb + 1, (size_t)(rb - lb - 1));
	return 0;
}

/* ---- JSON lines -------------------------------------------------------- */

/* Skip a JSON value starting at p; returns the end or NULL. */
static const char *json_skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

static const char *json_skip_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	if (*p == '"')
		return json_skip_string(p, end);
	if (*p == '{' || *p == '[') {
		int depth = 0;
		for (; p < end; p++) {
			if (*p == '"') {
				p = json_skip_string(p, end);
				if (!p)
					return NULL;
				p--;
			} else if (*p == '{' || *p == '[') {
				depth++;
			} else if (*p == '}' || *p == ']') {
				if (--depth == 0)
					return p + 1;
			}
		}
		return NULL;
	}
	while (p < end && *p != ',' && *p != '}' && *p != ' ' && *p != '\t')
		p++;
	return p;
}

/* A JSON string's text: a span of the line when it has no escapes, else
 * unescaped into the scratch buffer at *used. */
static int json_string_text(rc_log_parser *p, const char *s, const char *e, size_t *used,
                            const char **out, size_t *out_len)
{
	s++;
	e--; /* inside the quotes */
	if (!memchr(s, '\\', (size_t)(e - s))) {
		*out = s;
		*out_len = (size_t)(e - s);
		return 0;
	}
	size_t need = *used + (size_t)(e - s) * 3 + 1;
	if (need > p->scratch_cap)
		return -1; /* scratch is sized once per line (see below) */
	char *w = p->scratch + *used, *start = w;
	for (const char *c = s; c < e; c++) {
		if (*c != '\\') {
			*w++ = *c;
			continue;
		}
		if (++c >= e)
			return -1;
		switch (*c) {
		case 'n': *w++ = '\n'; break;
		case 't': *w++ = '\t'; break;
		case 'r': *w++ = '\r'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'u': {
			if (e - c < 5)
				return -1;
			int v = 0;
			for (int i = 1; i <= 4; i++) {
				int h = rd_hex_value((unsigned char)c[i]);
				if (h < 0)
					return -1;
				v = v * 16 + h;
			}
			c += 4;
			/* UTF-8 of the BMP code point (surrogates kept as is) */
			if (v < 0x80) {
				*w++ = (char)v;
			} else if (v < 0x800) {
				*w++ = (char)(0xc0 | (v >> 6));
				*w++ = (char)(0x80 | (v & 0x3f));
			} else {
				*w++ = (char)(0xe0 | (v >> 12));
				*w++ = (char)(0x80 | ((v >> 6) & 0x3f));
				*w++ = (char)(0x80 | (v & 0x3f));
			}
			break;
		}
		default: *w++ = *c; break;
		}
	}
	*out = start;
	*out_len = (size_t)(w - start);
	*used += *out_len;
	return 0;
}

static int parse_json(rc_log_parser *p, const char *line, size_t len, rc_log_entry *e,
                      const char **why)
{
	const char *c = line, *end = line + len;
	if (len * 3 + 1 > p->scratch_cap) {
		p->scratch_cap = len * 3 + 1;
		p->scratch = rc_xrealloc(p->scratch, p->scratch_cap);
	}
	size_t used = 0;
	const char *val[RC_FIELD_COUNT] = { 0 };
	size_t val_len[RC_FIELD_COUNT] = { 0 };
	int is_str[RC_FIELD_COUNT] = { 0 };
	while (c < end && (*c == ' ' || *c == '\t'))
		c++;
	if (c >= end || *c != '{') {
		*why = "expected a JSON object";
		return -1;
	}
	c++;
	for (;;) {
		while (c < end && (*c == ' ' || *c == '\t' || *c == ','))
			c++;
		if (c < end && *c == '}')
			break;
		if (c >= end || *c != '"') {
			*why = "expected a member name in the JSON object";
			return -1;
		}
		const char *ks = c;
		c = json_skip_string(c, end);
		if (!c) {
			*why = "expected the end of a JSON string";
			return -1;
		}
		const char *key = ks + 1;
		size_t kl = (size_t)(c - ks - 2);
		while (c < end && (*c == ' ' || *c == '\t'))
			c++;
		if (c >= end || *c != ':') {
			*why = "expected ':' after a JSON member name";
			return -1;
		}
		c++;
		while (c < end && (*c == ' ' || *c == '\t'))
			c++;
		const char *vs = c;
		c = json_skip_value(c, end);
		if (!c) {
			*why = "expected a JSON value";
			return -1;
		}
		for (int k = 0; k < RC_FIELD_COUNT; k++) {
			const char *want = p->fields.name[k];
			if (want && val[k] == NULL && strlen(want) == kl && memcmp(want, key, kl) == 0) {
				if (*vs == '"') {
					if (json_string_text(p, vs, c, &used, &val[k], &val_len[k]) != 0) {
						*why = "expected a valid JSON string";
						return -1;
					}
					is_str[k] = 1;
				} else {
					val[k] = vs;
					val_len[k] = (size_t)(c - vs);
				}
			}
		}
	}
	if (val[RC_FIELD_STATUS] == NULL ||
	    parse_status(val[RC_FIELD_STATUS], val_len[RC_FIELD_STATUS], &e->status) != 0) {
		*why = "expected a three-digit status in the status field";
		return -1;
	}
	int ok;
	if (val[RC_FIELD_PATH])
		ok = split_target(val[RC_FIELD_PATH], val_len[RC_FIELD_PATH], e);
	else if (val[RC_FIELD_REQUEST])
		ok = split_request_line(val[RC_FIELD_REQUEST], val_len[RC_FIELD_REQUEST], e);
	else
		ok = -1;
	if (ok != 0) {
		*why = "expected a request target starting with '/' in the path field (or a request line "
		       "in the request field)";
		return -1;
	}
	if (val[RC_FIELD_HOST] && val_len[RC_FIELD_HOST] && is_str[RC_FIELD_HOST]) {
		e->host = val[RC_FIELD_HOST];
		e->host_len = val_len[RC_FIELD_HOST];
	}
	if (val[RC_FIELD_LOCATION] && is_str[RC_FIELD_LOCATION]) {
		e->location = val[RC_FIELD_LOCATION];
		e->location_len = val_len[RC_FIELD_LOCATION];
	}
	if (val[RC_FIELD_TIME]) {
		const char *t = val[RC_FIELD_TIME];
		size_t tl = val_len[RC_FIELD_TIME];
		if (!is_str[RC_FIELD_TIME] || (tl && t[0] >= '0' && t[0] <= '9' && !memchr(t, '-', tl))) {
			/* seconds since the epoch, maybe with a fraction */
			int64_t v = 0;
			size_t i = 0;
			for (; i < tl && t[i] >= '0' && t[i] <= '9'; i++)
				v = v * 10 + (t[i] - '0');
			e->time = i ? v : INT64_MIN;
		} else if (tl >= 26 && t[2] == '/') {
			e->time = rc_log_time_clf(t, tl);
		} else {
			e->time = rc_log_time_iso(t, tl);
		}
	}
	return 0;
}

int rc_log_parse(rc_log_parser *p, const char *line, size_t len, rc_log_entry *e,
                 const char **why)
{
	memset(e, 0, sizeof *e);
	e->time = INT64_MIN;
	if (len && line[len - 1] == '\r')
		len--;
	switch (p->format) {
	case RC_LOG_CLF:
		return parse_clf(line, len, e, why);
	case RC_LOG_JSON:
		return parse_json(p, line, len, e, why);
	default:
		*why = "bug: unknown log format";
		return -1;
	}
}
