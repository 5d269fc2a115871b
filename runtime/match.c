/*
 * match.c - normalize, match, substitute: spec section 3, written once.
 *
 * Used by the compiler (checks, explain, test) and by the table reader.
 * No function here allocates or keeps state.
 */
#include "runtime/match.h"

#include <string.h>

/* Step 1: decode every %XX.  Returns the length or -1. */
static long path_decode(const char *raw, size_t len, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)raw[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			int hi = rd_hex_value((unsigned char)raw[i + 1]);
			int lo = rd_hex_value((unsigned char)raw[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = (char)c;
		}
	}
	return (long)o;
}

/* Steps 2 and 3 on a decoded path that starts with '/': merge runs of '/'
 * and remove '.' and '..' segments.  Works in place; returns the length. */
static size_t path_merge_and_resolve(char *p, size_t len)
{
	size_t r = 0, w = 0;
	while (r < len) {
		/* p[r] is '/' here; skip the run. */
		while (r < len && p[r] == '/')
			r++;
		size_t seg = r;
		while (r < len && p[r] != '/')
			r++;
		size_t seglen = r - seg;
		int last = (r >= len);
		if (seglen == 1 && p[seg] == '.') {
			if (last)
				p[w++] = '/';
		} else if (seglen == 2 && p[seg] == '.' && p[seg + 1] == '.') {
			while (w > 0 && p[w - 1] != '/')
				w--;
			if (w > 0)
				w--; /* the '/' before the popped segment */
			if (last)
				p[w++] = '/';
		} else if (seglen == 0) {
			/* only possible at the end: a trailing slash */
			p[w++] = '/';
		} else {
			p[w++] = '/';
			memmove(p + w, p + seg, seglen);
			w += seglen;
		}
	}
	if (w == 0)
		p[w++] = '/';
	return w;
}

/* Is a raw path already in normal form: a leading '/', no '%', no "//",
 * no "." or ".." segment, and no trailing '/' unless the policy keeps it? */
int rd_path_is_normal(const char *p, size_t len, unsigned policy)
{
	if (len == 0 || p[0] != '/')
		return 0;
	if (len > 1 && p[len - 1] == '/' && !(policy & RD_POLICY_TRAILING_STRICT))
		return 0;
	if (memchr(p, '%', len))
		return 0;
	const char *end = p + len;
	for (const char *s = p; (s = memchr(s, '/', (size_t)(end - s))) != NULL && s + 1 < end; s++) {
		char n = s[1];
		if (n == '/')
			return 0;
		if (n == '.' && (s + 2 == end || s[2] == '/' ||
		                 (s[2] == '.' && (s + 3 == end || s[3] == '/'))))
			return 0;
	}
	return 1;
}

int rd_path_normalize(const char *raw, size_t len, unsigned policy,
                      char *out, size_t *out_len)
{
	if (rd_path_is_normal(raw, len, policy)) {
		memcpy(out, raw, len);
		out[len] = '\0';
		*out_len = len;
		return 0;
	}
	size_t start = 0;
	if (len == 0 || raw[0] != '/') {
		out[0] = '/';
		start = 1;
	}
	long n = path_decode(raw, len, out + start);
	if (n < 0)
		return -1;
	size_t w = path_merge_and_resolve(out, (size_t)n + start);
	if (!(policy & RD_POLICY_TRAILING_STRICT) && w > 1 && out[w - 1] == '/')
		w--;
	out[w] = '\0';
	*out_len = w;
	return 0;
}

size_t rd_host_canon(const char *host, size_t len, char *out)
{
	size_t end = len;
	if (len > 0 && host[0] == '[') {
		/* IPv6 literal: keep up to the closing bracket */
		const char *close = memchr(host, ']', len);
		if (close)
			end = (size_t)(close - host) + 1;
	} else {
		const char *colon = memchr(host, ':', len);
		if (colon)
			end = (size_t)(colon - host);
	}
	if (end > 0 && host[end - 1] == '.')
		end--;
	for (size_t i = 0; i < end; i++)
		out[i] = (char)rd_ascii_lower((unsigned char)host[i]);
	out[end] = '\0';
	return end;
}

int rd_bytes_equal(const char *a, size_t alen, const char *b, size_t blen,
                   unsigned policy)
{
	if (alen != blen)
		return 0;
	if (!(policy & RD_POLICY_CASE_INSENSITIVE))
		return memcmp(a, b, alen) == 0;
	for (size_t i = 0; i < alen; i++)
		if (rd_ascii_lower((unsigned char)a[i]) != rd_ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

int rd_pattern_match(const rd_ptok *toks, size_t ntoks, const char *path,
                     size_t len, unsigned policy, rd_span *caps)
{
	size_t pos = 0;
	for (size_t t = 0; t < ntoks; t++) {
		const rd_ptok *tok = &toks[t];
		switch (tok->kind) {
		case RD_PTOK_LIT: {
			int splat_next = (t + 1 < ntoks && toks[t + 1].kind == RD_PTOK_SPLAT);
			if (len - pos >= tok->len &&
			    rd_bytes_equal(path + pos, tok->len, tok->text, tok->len, policy)) {
				pos += tok->len;
				break;
			}
			/* a source ending in slash-splat also matches without that slash */
			if (splat_next && !(policy & RD_POLICY_SPLAT_NO_PARENT) && tok->len > 0 && tok->text[tok->len - 1] == '/' &&
			    len - pos == tok->len - 1 &&
			    rd_bytes_equal(path + pos, tok->len - 1, tok->text, tok->len - 1, policy)) {
				caps[toks[t + 1].capture].off = (uint32_t)len;
				caps[toks[t + 1].capture].len = 0;
				return t + 2 == ntoks;
			}
			return 0;
		}
		case RD_PTOK_PARAM: {
			size_t end = pos;
			while (end < len && path[end] != '/')
				end++;
			if (end == pos)
				return 0;
			caps[tok->capture].off = (uint32_t)pos;
			caps[tok->capture].len = (uint32_t)(end - pos);
			pos = end;
			break;
		}
		case RD_PTOK_SPLAT:
			caps[tok->capture].off = (uint32_t)pos;
			caps[tok->capture].len = (uint32_t)(len - pos);
			pos = len;
			break;
		default:
			return 0; /* a corrupt token never matches */
		}
	}
	return pos == len;
}

/* The byte classes of spec section 3, as a table: bit 1 marks the bytes a
 * capture keeps in a path (unreserved, sub-delims, ':', '@', '/'). */
#define SAFE_PATH 1
static const unsigned char BYTE_CLASS[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
	['7'] = 1, ['8'] = 1, ['9'] = 1,
	['-'] = 1, ['.'] = 1, ['_'] = 1, ['~'] = 1, ['!'] = 1, ['$'] = 1, ['&'] = 1,
	['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, [';'] = 1,
	['='] = 1, [':'] = 1, ['@'] = 1, ['/'] = 1,
};

static int is_unreserved_or_sub(unsigned char c)
{
	return BYTE_CLASS[c] & SAFE_PATH;
}

static const char HEX[] = "0123456789ABCDEF";

static size_t put_byte(char *out, size_t cap, size_t o, char c)
{
	if (o < cap)
		out[o] = c;
	return o + 1;
}

static size_t put_escape(char *out, size_t cap, size_t o, unsigned char c)
{
	o = put_byte(out, cap, o, '%');
	o = put_byte(out, cap, o, HEX[c >> 4]);
	return put_byte(out, cap, o, HEX[c & 15]);
}

/* Literal text and the raw query: keep valid %XX escapes, encode a stray
 * '%' as %25, keep '?' where `keep_qmark`. */
static size_t encode_keeping_escapes(const char *s, size_t len, int keep_qmark,
                                     char *out, size_t cap, size_t o)
{
	for (size_t i = 0; i < len; i++) {
		/* a run of bytes kept as they are: copied (or counted) at once */
		size_t j = i;
		while (j < len && (is_unreserved_or_sub((unsigned char)s[j]) || (keep_qmark && s[j] == '?')))
			j++;
		if (j > i) {
			if (o < cap)
				memcpy(out + o, s + i, j - i <= cap - o ? j - i : cap - o);
			o += j - i;
			i = j;
			if (i == len)
				break;
		}
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 < len && rd_hex_value((unsigned char)s[i + 1]) >= 0 &&
			    rd_hex_value((unsigned char)s[i + 2]) >= 0)
				o = put_byte(out, cap, o, '%');
			else
				o = put_escape(out, cap, o, c);
		} else if (is_unreserved_or_sub(c) || (keep_qmark && c == '?')) {
			o = put_byte(out, cap, o, (char)c);
		} else {
			o = put_escape(out, cap, o, c);
		}
	}
	return o;
}

static size_t terminate(char *out, size_t cap, size_t o)
{
	if (o < cap)
		out[o] = '\0';
	return o;
}

size_t rd_encode_literal(const char *s, size_t len, enum rd_url_part part,
                         char *out, size_t cap)
{
	return terminate(out, cap, encode_keeping_escapes(s, len, part != RD_PART_PATH, out, cap, 0));
}

static size_t encode_capture_at(const char *s, size_t len, enum rd_url_part part,
                                char *out, size_t cap, size_t o)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int safe = is_unreserved_or_sub(c);
		if (part == RD_PART_QUERY && (c == '&' || c == '=' || c == '+'))
			safe = 0;
		o = safe ? put_byte(out, cap, o, (char)c) : put_escape(out, cap, o, c);
	}
	return o;
}

size_t rd_encode_capture(const char *s, size_t len, enum rd_url_part part,
                         char *out, size_t cap)
{
	return terminate(out, cap, encode_capture_at(s, len, part, out, cap, 0));
}

size_t rd_query_encode(const char *q, size_t len, char *out, size_t cap)
{
	return terminate(out, cap, encode_keeping_escapes(q, len, 1, out, cap, 0));
}

static int subdomain_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int rd_wildcard_admits(const char *wild, const char *host)
{
	if (wild[0] != '*' || wild[1] != '.')
		return 0;
	size_t wl = strlen(wild) - 1; /* ".NAME" */
	size_t hl = strlen(host);
	if (hl <= wl || memcmp(host + hl - wl, wild + 1, wl) != 0)
		return 0;
	/* SUB = host[0, hl - wl): labels of subdomain bytes, one '.' between */
	size_t sl = hl - wl, label = 0;
	for (size_t i = 0; i < sl; i++) {
		if (host[i] == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (subdomain_byte((unsigned char)host[i])) {
			label++;
		} else {
			return 0;
		}
	}
	return label > 0;
}

int rd_rule_admits_host(const rd_rule *rule, const char *host)
{
	if (rule->nhosts == 0)
		return 1;
	if (host == NULL)
		return 0;
	for (uint32_t i = 0; i < rule->nhosts; i++) {
		const char *h = rule->hosts[i];
		if (h[0] == '*' ? rd_wildcard_admits(h, host) : strcmp(h, host) == 0)
			return 1;
	}
	return 0;
}

size_t rd_host_subdomain(const rd_rule *rule, const char *host)
{
	size_t best = 0, best_name = 0;
	if (host == NULL)
		return 0;
	for (uint32_t i = 0; i < rule->nhosts; i++) {
		const char *h = rule->hosts[i];
		size_t nl = strlen(h);
		if (h[0] == '*' && nl > best_name && rd_wildcard_admits(h, host)) {
			best_name = nl;
			best = strlen(host) - (nl - 1);
		}
	}
	return best;
}

static size_t put_bytes(char *out, size_t cap, size_t o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		o = put_byte(out, cap, o, s[i]);
	return o;
}

size_t rd_location_build(const rd_rule *rule, const char *path,
                         const rd_span *caps, const char *query,
                         size_t query_len, char *out, size_t cap)
{
	return rd_location_build_host(rule, NULL, path, caps, query, query_len, out, cap);
}

size_t rd_location_build_host(const rd_rule *rule, const char *host,
                              const char *path, const rd_span *caps,
                              const char *query, size_t query_len,
                              char *out, size_t cap)
{
	size_t o = 0;
	if (rule->flags & RD_RULE_GONE) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	for (uint32_t t = 0; t < rule->ndst; t++) {
		const rd_ttok *tok = &rule->dst[t];
		switch (tok->kind) {
		case RD_TTOK_LIT:
			o = put_bytes(out, cap, o, tok->text, tok->len);
			break;
		case RD_TTOK_CAP_PATH:
		case RD_TTOK_CAP_QUERY: {
			const rd_span *c = &caps[tok->capture];
			o = encode_capture_at(path + c->off, c->len,
			                      tok->kind == RD_TTOK_CAP_QUERY ? RD_PART_QUERY : RD_PART_PATH,
			                      out, cap, o);
			break;
		}
		case RD_TTOK_SUBDOMAIN:
			o = put_bytes(out, cap, o, host, rd_host_subdomain(rule, host));
			break;
		default:
			break; /* a corrupt token adds nothing */
		}
	}
	if (!(rule->flags & RD_RULE_QUERY_DROP) && query != NULL && query_len > 0) {
		o = put_byte(out, cap, o, (rule->flags & RD_RULE_TARGET_QUERY) ? '&' : '?');
		o = encode_keeping_escapes(query, query_len, 1, out, cap, o);
	}
	if (rule->fragment != NULL)
		o = put_bytes(out, cap, o, rule->fragment, rule->fragment_len);
	if (o < cap)
		out[o] = '\0';
	else if (cap > 0)
		out[cap - 1] = '\0';
	return o;
}
