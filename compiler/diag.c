/*
 * diag.c - queue, filter and print diagnostics (GCC layout and JSON).
 */
#include "compiler/diag.h"

#include <stdlib.h>
#include <string.h>

const char *const rc_diag_names[] = {
	"syntax", "duplicate", "shadowed", "loop", "unbounded", "chain",
	"unbound", "open-redirect", "bad-status", "bad-url", "bad-host",
	"bad-date", "bad-setting", "include", "expired", "missing-owner",
	"missing-note", "untested", "expect", "backend", "undecided",
	"not-importable", "io", NULL,
};

struct name_policy {
	const char *name;
	int policy;
};

int rc_diag_name_is_known(const char *name)
{
	for (size_t i = 0; rc_diag_names[i]; i++)
		if (strcmp(rc_diag_names[i], name) == 0)
			return 1;
	return 0;
}

void rc_diags_init(rc_diags *d)
{
	memset(d, 0, sizeof *d);
	rc_vec_init(&d->files, sizeof(rc_file));
	rc_vec_init(&d->records, sizeof(rc_diag));
	rc_vec_init(&d->policies, sizeof(struct name_policy));
}

void rc_diags_fini(rc_diags *d)
{
	for (size_t i = 0; i < d->files.len; i++) {
		rc_file *f = RC_VEC_AT(&d->files, rc_file, i);
		free(f->path);
		if (!f->borrowed)
			free(f->text);
	}
	rc_vec_fini(&d->files);
	for (size_t i = 0; i < d->records.len; i++) {
		rc_diag *r = RC_VEC_AT(&d->records, rc_diag, i);
		free(r->message);
		for (size_t j = 0; j < r->notes.len; j++)
			free(RC_VEC_AT(&r->notes, rc_note, j)->message);
		rc_vec_fini(&r->notes);
	}
	rc_vec_fini(&d->records);
	rc_vec_fini(&d->policies);
}

int32_t rc_diags_add_file(rc_diags *d, const char *path, char *text,
                          size_t len, int32_t parent, rc_loc included_at)
{
	rc_file *f = rc_vec_push(&d->files);
	f->path = rc_xstrdup(path);
	f->text = text;
	f->len = len;
	f->parent = parent;
	f->included_at = included_at;
	f->borrowed = 0;
	f->show_max = 0;
	return (int32_t)(d->files.len - 1);
}

const rc_file *rc_diags_file(const rc_diags *d, int32_t i)
{
	if (i < 0 || (size_t)i >= d->files.len)
		return NULL;
	return RC_VEC_AT(&d->files, rc_file, i);
}

int rc_diags_set_policy(rc_diags *d, const char *name, enum rc_name_policy p)
{
	if (!rc_diag_name_is_known(name))
		return -1;
	struct name_policy *np = rc_vec_push(&d->policies);
	np->name = name;
	np->policy = (int)p;
	return 0;
}

static int policy_of(const rc_diags *d, const char *name)
{
	int p = RC_NAME_DEFAULT;
	for (size_t i = 0; i < d->policies.len; i++) {
		const struct name_policy *np = RC_VEC_AT(&d->policies, struct name_policy, i);
		if (strcmp(np->name, name) == 0)
			p = np->policy; /* the last flag wins, as in GCC */
	}
	return p;
}

/* Format a message.  User text reaches messages through '%s' (a source as
 * written, a request URL, a path); control bytes in it are shown as \xNN
 * here, once for every caller, so no diagnostic prints a raw control byte
 * (only '\n' is kept, for messages that span lines). */
static char *vformat(const char *fmt, va_list ap)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_vprintf(&b, fmt, ap);
	size_t bad = 0;
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			bad++;
	}
	if (bad == 0)
		return b.data;
	rc_buf clean;
	rc_buf_init(&clean);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			rc_buf_printf(&clean, "\\x%02x", c);
		else
			rc_buf_addc(&clean, (char)c);
	}
	rc_buf_fini(&b);
	return clean.data;
}

/* A file path as the compiler opened it, control bytes shown as \xNN. */
static void put_path(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

void rc_diag_vadd(rc_diags *d, enum rc_severity sev, const char *name,
                  rc_loc loc, const char *fmt, va_list ap)
{
	if (sev == RC_SEV_WARNING) {
		int p = policy_of(d, name);
		if (p == RC_NAME_IGNORE) {
			d->last_kept = 0;
			return;
		}
		if (p == RC_NAME_ERROR || d->werror)
			sev = RC_SEV_ERROR;
	}
	if (sev == RC_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->max_errors && sev == RC_SEV_ERROR && d->errors > d->max_errors) {
		d->dropped++;
		d->last_kept = 0;
		return;
	}
	rc_diag *r = rc_vec_push(&d->records);
	r->severity = sev;
	r->name = name;
	r->loc = loc;
	r->message = vformat(fmt, ap);
	rc_vec_init(&r->notes, sizeof(rc_note));
	d->last_kept = 1;
}

void rc_diag_add(rc_diags *d, enum rc_severity sev, const char *name,
                 rc_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rc_diag_vadd(d, sev, name, loc, fmt, ap);
	va_end(ap);
}

void rc_diag_note(rc_diags *d, rc_loc loc, const char *fmt, ...)
{
	if (!d->last_kept || d->records.len == 0)
		return;
	rc_diag *r = RC_VEC_AT(&d->records, rc_diag, d->records.len - 1);
	rc_note *n = rc_vec_push(&r->notes);
	n->loc = loc;
	va_list ap;
	va_start(ap, fmt);
	n->message = vformat(fmt, ap);
	va_end(ap);
}

char *rc_quote(rc_arena *a, const char *s, size_t n, size_t max)
{
	rc_buf b;
	rc_buf_init(&b);
	size_t shown = n > max ? max : n;
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			rc_buf_printf(&b, "\\x%02x", c);
		else
			rc_buf_addc(&b, (char)c);
	}
	if (shown < n)
		rc_buf_adds(&b, "...");
	char *p = rc_arena_strndup(a, b.data, b.len);
	rc_buf_fini(&b);
	return p;
}

static const char *sev_word(enum rc_severity s)
{
	switch (s) {
	case RC_SEV_NOTE:
		return "note";
	case RC_SEV_WARNING:
		return "warning";
	case RC_SEV_ERROR:
		return "error";
	default:
		return "bug";
	}
}

static void print_location_prefix(const rc_diags *d, FILE *out, rc_loc loc)
{
	const rc_file *f = rc_diags_file(d, loc.file);
	if (!f) {
		fputs("redirc: ", out);
		return;
	}
	put_path(out, f->path);
	if (loc.line == 0)
		fputs(": ", out); /* the file as a whole */
	else
		fprintf(out, ":%u:%u: ", loc.line, loc.col);
}

/* "In file included from …" lines for a location in an included file. */
static void print_include_chain(const rc_diags *d, FILE *out, rc_loc loc)
{
	const rc_file *f = rc_diags_file(d, loc.file);
	int first = 1;
	while (f && f->parent >= 0) {
		const rc_file *p = rc_diags_file(d, f->parent);
		if (!p)
			break;
		fprintf(out, "%s ", first ? "In file included from" : "                 from");
		put_path(out, p->path);
		fprintf(out, ":%u:%u:\n", f->included_at.line, f->included_at.col);
		first = 0;
		f = p;
	}
}

/* Print the source line of `loc` with a caret and tildes under the span. */
static void print_source_line(const rc_diags *d, FILE *out, rc_loc loc)
{
	const rc_file *f = rc_diags_file(d, loc.file);
	if (!f || loc.line == 0 || !f->text)
		return;
	const char *p = f->text, *end = f->text + f->len;
	for (uint32_t l = 1; l < loc.line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return;
		p = nl + 1;
	}
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	size_t linelen = (size_t)(eol - p);
	if (linelen > 0 && p[linelen - 1] == '\r')
		linelen--;
	const size_t maxshow = f->show_max ? f->show_max : 200;
	size_t start = 0;
	if (loc.col > 120 && linelen > maxshow && !f->show_max)
		start = loc.col - 60;
	size_t shown = linelen - start > maxshow ? maxshow : linelen - start;
	fprintf(out, "%5u | ", loc.line);
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)p[start + i];
		if (c >= 0x80) {
			int l = rc_utf8_seq_len((const unsigned char *)p + start + i, shown - i);
			if (l > 0) {
				fwrite(p + start + i, 1, (size_t)l, out);
				i += (size_t)l - 1;
			} else {
				fputc('?', out);
			}
			continue;
		}
		if ((c < 0x20 && (c != '\t' || f->show_max)) || c == 0x7f) {
			fputc('?', out); /* an excerpt (show_max) is control-free: tabs too */
			continue;
		}
		/* a run of printable ASCII (and tabs) at once */
		size_t k = i;
		while (k < shown && (unsigned char)p[start + k] < 0x80 &&
		       ((unsigned char)p[start + k] >= 0x20 || (p[start + k] == '\t' && !f->show_max)) &&
		       p[start + k] != 0x7f)
			k++;
		fwrite(p + start + i, 1, k - i, out);
		i = k - 1;
	}
	if (start + shown < linelen)
		fputs("...", out);
	fputs("\n      | ", out);
	if (loc.col >= 1 && loc.col - 1 >= start) {
		for (size_t i = start; i + 1 < loc.col && i < start + shown; i++)
			fputc(p[i] == '\t' && !f->show_max ? '\t' : ' ', out);
		fputc('^', out);
		for (uint32_t i = 1; i < loc.len && i < maxshow; i++)
			fputc('~', out);
	}
	fputc('\n', out);
}

/* The records in print order: by file (in the order files were read), then
 * line and column; records without a place first; ties keep the order the
 * checks queued them.  Returns a malloc'ed array of indexes. */
static int record_cmp(const void *x, const void *y, void *arg)
{
	const rc_diags *d = arg;
	size_t i = *(const size_t *)x, j = *(const size_t *)y;
	const rc_diag *a = RC_VEC_AT(&d->records, rc_diag, i);
	const rc_diag *b = RC_VEC_AT(&d->records, rc_diag, j);
	if (a->loc.file != b->loc.file)
		return a->loc.file < b->loc.file ? -1 : 1;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return i < j ? -1 : (i > j);
}

static size_t *print_order(const rc_diags *d)
{
	size_t *order = rc_xmalloc((d->records.len + 1) * sizeof *order);
	for (size_t i = 0; i < d->records.len; i++)
		order[i] = i;
	qsort_r(order, d->records.len, sizeof *order, record_cmp, (void *)d);
	return order;
}

void rc_diags_print_text(const rc_diags *d, FILE *out, int color)
{
	(void)color;
	size_t *order = print_order(d);
	for (size_t k = 0; k < d->records.len; k++) {
		const rc_diag *r = RC_VEC_AT(&d->records, rc_diag, order[k]);
		print_include_chain(d, out, r->loc);
		print_location_prefix(d, out, r->loc);
		fprintf(out, "%s: %s [%s]\n", sev_word(r->severity), r->message, r->name);
		print_source_line(d, out, r->loc);
		for (size_t j = 0; j < r->notes.len; j++) {
			const rc_note *n = RC_VEC_AT(&r->notes, rc_note, j);
			print_location_prefix(d, out, n->loc);
			fprintf(out, "note: %s\n", n->message);
		}
	}
	free(order);
	if (d->dropped)
		fprintf(out, "redirc: note: %zu more errors not shown (--max-errors)\n", d->dropped);
}

/* Printable ASCII but '"' and '\\': written as is, a run at a time. */
static int json_plain(unsigned char c)
{
	return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void rc_json_string(FILE *out, const char *s)
{
	rc_json_stringn(out, s, strlen(s));
}

void rc_json_stringn(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	const unsigned char *end = (const unsigned char *)s + n;
	for (const unsigned char *p = (const unsigned char *)s; p < end; p++) {
		if (json_plain(*p)) {
			const unsigned char *q = p;
			while (q < end && json_plain(*q))
				q++;
			fwrite(p, 1, (size_t)(q - p), out);
			p = q - 1;
			continue;
		}
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p >= 0x80) {
				int l = rc_utf8_seq_len(p, (size_t)(end - p));
				if (l > 0) {
					fwrite(p, 1, (size_t)l, out);
					p += l - 1;
				} else {
					fputs("\\ufffd", out); /* not UTF-8: keep the JSON valid */
				}
			} else if (*p < 0x20 || *p == 0x7f) {
				fprintf(out, "\\u%04x", *p);
			} else {
				fputc(*p, out);
			}
		}
	}
	fputc('"', out);
}

static void json_loc(const rc_diags *d, FILE *out, rc_loc loc)
{
	const rc_file *f = rc_diags_file(d, loc.file);
	fputs("\"file\":", out);
	if (f)
		rc_json_string(out, f->path);
	else
		fputs("null", out);
	fprintf(out, ",\"line\":%u,\"column\":%u", loc.line, loc.col);
}

void rc_diags_print_json(const rc_diags *d, FILE *out)
{
	size_t *order = print_order(d);
	fputc('[', out);
	for (size_t k = 0; k < d->records.len; k++) {
		const rc_diag *r = RC_VEC_AT(&d->records, rc_diag, order[k]);
		if (k)
			fputc(',', out);
		fputs("{\"severity\":", out);
		rc_json_string(out, sev_word(r->severity));
		fputs(",\"name\":", out);
		rc_json_string(out, r->name);
		fputc(',', out);
		json_loc(d, out, r->loc);
		fputs(",\"message\":", out);
		rc_json_string(out, r->message);
		fputs(",\"notes\":[", out);
		for (size_t j = 0; j < r->notes.len; j++) {
			const rc_note *n = RC_VEC_AT(&r->notes, rc_note, j);
			if (j)
				fputc(',', out);
			fputc('{', out);
			json_loc(d, out, n->loc);
			fputs(",\"message\":", out);
			rc_json_string(out, n->message);
			fputc('}', out);
		}
		fputs("]}", out);
	}
	fputs("]\n", out);
	free(order);
}

/* ---- SARIF 2.1.0 (code scanning) ------------------------------------- */

/* A relative URI reference for a path: unreserved bytes and '/' kept,
 * every other byte %XX. */
static void sarif_uri(FILE *out, const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '.' || *p == '_' || *p == '~' || *p == '/')
			fputc(*p, out);
		else
			fprintf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	fputc('"', out);
}

/* {"artifactLocation":…,"region":…} */
static void sarif_physical(const rc_diags *d, FILE *out, rc_loc loc)
{
	const rc_file *f = rc_diags_file(d, loc.file);
	fputs("{\"artifactLocation\":{\"uri\":", out);
	sarif_uri(out, f ? f->path : "");
	fputc('}', out);
	if (loc.line > 0) {
		fprintf(out, ",\"region\":{\"startLine\":%u", loc.line);
		if (loc.col > 0)
			fprintf(out, ",\"startColumn\":%u,\"endColumn\":%u", loc.col,
			        loc.col + (loc.len ? loc.len : 1));
		fputc('}', out);
	}
	fputc('}', out);
}

static const char *sarif_level(enum rc_severity s)
{
	return s == RC_SEV_ERROR ? "error" : s == RC_SEV_WARNING ? "warning" : "note";
}

void rc_diags_print_sarif(const rc_diags *d, FILE *out, const char *version)
{
	size_t *order = print_order(d);
	fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
	      "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"redirc\",\"version\":",
	      out);
	rc_json_string(out, version);
	fputs(",\"rules\":[", out);
	for (size_t i = 0; rc_diag_names[i]; i++) {
		fputs(i ? ",{\"id\":" : "{\"id\":", out);
		rc_json_string(out, rc_diag_names[i]);
		fputc('}', out);
	}
	fputs("]}},\"results\":[", out);
	for (size_t k = 0; k < d->records.len; k++) {
		const rc_diag *r = RC_VEC_AT(&d->records, rc_diag, order[k]);
		if (k)
			fputc(',', out);
		fputs("{\"ruleId\":", out);
		rc_json_string(out, r->name);
		fputs(",\"level\":", out);
		rc_json_string(out, sarif_level(r->severity));
		fputs(",\"message\":{\"text\":", out);
		rc_json_string(out, r->message);
		fputc('}', out);
		if (rc_diags_file(d, r->loc.file)) {
			fputs(",\"locations\":[{\"physicalLocation\":", out);
			sarif_physical(d, out, r->loc);
			fputs("}]", out);
		}
		size_t shown = 0;
		for (size_t j = 0; j < r->notes.len; j++) {
			const rc_note *n = RC_VEC_AT(&r->notes, rc_note, j);
			if (!rc_diags_file(d, n->loc.file))
				continue;
			fputs(shown++ ? "," : ",\"relatedLocations\":[", out);
			fprintf(out, "{\"id\":%zu,\"message\":{\"text\":", j + 1);
			rc_json_string(out, n->message);
			fputs("},\"physicalLocation\":", out);
			sarif_physical(d, out, n->loc);
			fputc('}', out);
		}
		if (shown)
			fputc(']', out);
		fputc('}', out);
	}
	fputs("]}]}\n", out);
	free(order);
}
