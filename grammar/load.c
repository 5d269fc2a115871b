/*
 * load.c - files: read a whole file (regular files only, 1 GiB at most),
 * screen its bytes (NUL and invalid UTF-8 are reported once per line and
 * the line is skipped), run the scanner and parser over it in place, and
 * expand includes on a fresh scanner (cycles and depth are `include`
 * errors with the include chain).
 */
#include "grammar/builder.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grammar/parser.h"
#include "grammar/scanner.h"

/* ---- files and includes ---------------------------------------------- */

/* Report NUL bytes and invalid UTF-8, one error per line, and blank those
 * lines so the parser goes on with the next.  With `fix` 0, only tell
 * whether the text has such a byte (1) or not (0): nothing is reported or
 * changed. */
/* Are the 8 bytes of w all ASCII, none of them NUL or '\n'?  (A byte is
 * zero exactly when (v - 0x01) & ~v sets its high bit.) */
static int word_is_plain_ascii(uint64_t w)
{
	const uint64_t lo = 0x0101010101010101ull, hi = 0x8080808080808080ull;
	uint64_t nl = w ^ (lo * '\n');
	return ((w | ((w - lo) & ~w) | ((nl - lo) & ~nl)) & hi) == 0;
}

static int screen_text(rc_builder *b, char *text, size_t len, int fix)
{
	uint32_t line = 1;
	size_t line_start = 0;
	for (size_t i = 0; i < len;) {
		/* fast path: plain ASCII needs no check, 8 bytes at a time */
		uint64_t w;
		while (i + 8 <= len && (memcpy(&w, text + i, 8), word_is_plain_ascii(w)))
			i += 8;
		if (i >= len)
			break;
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			line++;
			line_start = ++i;
			continue;
		}
		int bad = 0;
		const char *what = NULL;
		if (c == 0) {
			bad = 1;
			what = "a NUL byte";
		} else if (c >= 0x80) {
			int l = rc_utf8_seq_len((const unsigned char *)text + i, len - i);
			if (l < 0) {
				bad = 1;
				what = "invalid UTF-8";
			} else {
				i += (size_t)l;
				continue;
			}
		}
		if (!bad) {
			i++;
			continue;
		}
		if (!fix)
			return 1;
		rc_loc loc = { b->file, line, (uint32_t)(i - line_start + 1), 1 };
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", loc,
		            "%s (byte 0x%02x), expected UTF-8 text; the line is skipped", what, c);
		size_t j = line_start;
		while (j < len && text[j] != '\n')
			text[j++] = ' ';
		i = j;
	}
	return 0;
}

/* Reserve the rules array once from the line count of the top file, so a
 * large file does not pay for repeated doubling (untouched pages of an
 * over-estimate cost no memory). */
static void reserve_rules(rc_ir *ir, const char *text, size_t len)
{
	size_t lines = 1;
	for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++)
		lines++;
	rc_vec *v = &ir->rules;
	if (v->cap < lines) {
		v->items = rc_xrealloc(v->items, lines * v->item_size);
		v->cap = lines;
	}
}

static void parse_buffer(rc_builder *b, char *text, size_t len)
{
	rc_parse ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.builder = b;
	yyscan_t scanner;
	if (rc_yylex_init_extra(&ctx, &scanner) != 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", RC_NOLOC, "cannot start the scanner");
		return;
	}
	ctx.scanner = scanner;
	/* a final newline so the last statement always ends */
	/* scan in place: `text` ends with two NUL bytes after `len` */
	YY_BUFFER_STATE buf = rc_yy_scan_buffer(text, len + 2, scanner);
	rc_yyset_lineno(1, scanner);
	rc_yyset_column(1, scanner);
	size_t depth_at_start = b->blocks.len;
	rc_yyparse(scanner, &ctx);
	rc_yy_delete_buffer(buf, scanner);
	rc_yylex_destroy(scanner);
	/* blocks opened in this file must close in it */
	while (b->blocks.len > depth_at_start) {
		block *o = RC_VEC_AT(&b->blocks, block, b->blocks.len - 1);
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", o->loc,
		            "%s block is never closed, expected '}' before the end of the file",
		            o->kind == BLOCK_HOST ? "host" : "group");
		b->blocks.len--;
	}
}

/* Parse len bytes of text, which has room for 3 more: every statement
 * ends with a newline, and flex wants two NUL bytes at the end. */
static void scan_text(rc_builder *b, char *text, size_t len)
{
	text[len] = '\n';
	text[len + 1] = '\0';
	text[len + 2] = '\0';
	parse_buffer(b, text, len + 1);
}

#define RC_MAX_FILE_SIZE (1024ull * 1024 * 1024)

/* Read a whole file.  Returns the text (malloc'ed, NUL-terminated, with room
 * for 2 more bytes after the NUL: see scan_text) or NULL with *err set to an
 * errno value (EISDIR, ENODEV for a non-regular file). */
static char *read_file(const char *path, size_t *len, int *err, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, st) != 0) {
		*err = errno;
		close(fd);
		return NULL;
	}
	if (S_ISDIR(st->st_mode)) {
		*err = EISDIR;
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st->st_mode)) {
		*err = ENODEV;
		close(fd);
		return NULL;
	}
	if ((unsigned long long)st->st_size > RC_MAX_FILE_SIZE) {
		*err = EFBIG;
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st->st_size + 4, n = 0;
	char *text = rc_xmalloc(cap);
	for (;;) {
		if (n > RC_MAX_FILE_SIZE) {
			/* a file that grows while read, or a /proc file of size 0 */
			*err = EFBIG;
			free(text);
			close(fd);
			return NULL;
		}
		if (n + 3 >= cap) {
			cap *= 2;
			text = rc_xrealloc(text, cap);
		}
		ssize_t r = read(fd, text + n, cap - n - 3);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			free(text);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	text[n] = '\0';
	*len = n;
	return text;
}

static const char *errno_text(int err)
{
	if (err == EFBIG)
		return "larger than the 1 GiB limit of a rule file";
	if (err == ENODEV)
		return "not a regular file";
	return strerror(err);
}

static int retry_can_help(int err)
{
	return err == EAGAIN || err == EINTR || err == EIO || err == ENFILE ||
	       err == EMFILE || err == ENOMEM || err == EBUSY;
}

/* Parse one file in place.  `at` is the include statement (file -1 for
 * the top file).  Returns 0, or -1 if the file could not be read. */
static int load_one(rc_builder *b, const char *path, rc_loc at)
{
	size_t len = 0;
	int err = 0;
	struct stat st;
	char *text = read_file(path, &len, &err, &st);
	if (!text) {
		const char *hint = retry_can_help(err) ? "a retry may help" : "a retry will not help until the file is fixed";
		if (at.file < 0) {
			/* the top file: an I/O failure about the file as a whole */
			char *none = rc_xmalloc(1);
			none[0] = '\0';
			rc_loc whole = { rc_diags_add_file(D(b), path, none, 0, -1, RC_NOLOC), 0, 0, 0 };
			rc_diag_add(D(b), RC_SEV_ERROR, "io", whole, "cannot read '%s': %s (%s)", path,
			            errno_text(err), hint);
		} else {
			rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
			            "cannot read included file '%s': %s (%s)", path, errno_text(err), hint);
		}
		return -1;
	}
	for (size_t i = 0; i < b->active.len; i++) {
		struct active_file *af = RC_VEC_AT(&b->active, struct active_file, i);
		if (af->dev == st.st_dev && af->ino == st.st_ino) {
			rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
			            "include cycle: '%s' is already being read, expected includes to form no cycle",
			            path);
			for (size_t j = b->active.len; j-- > i + 1;) {
				struct active_file *cf = RC_VEC_AT(&b->active, struct active_file, j);
				const rc_file *f = rc_diags_file(D(b), cf->file);
				rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
			}
			free(text);
			return 0;
		}
	}
	int32_t parent = b->file;
	int32_t id = rc_diags_add_file(D(b), path, text, len, at.file < 0 ? -1 : parent, at);
	if (at.file < 0)
		reserve_rules(b->ir, text, len);
	struct active_file *af = rc_vec_push(&b->active);
	af->dev = st.st_dev;
	af->ino = st.st_ino;
	af->file = id;
	int32_t saved_file = b->file;
	uint32_t saved_line = b->last_syntax_line;
	int32_t saved_sfile = b->last_syntax_file;
	b->file = id;
	if (at.file < 0)
		b->ir->top_file = id;
	/* Scan the text in place (read_file left room for the "\n\0\0" the
	 * scanner needs): a clean file is not copied.  Flex NUL-terminates each
	 * token in the buffer only until it reads the next, so the text is
	 * whole again when the parse ends, before any diagnostic is printed.  A
	 * text with bad bytes is screened in a copy, since the diagnostics
	 * show its lines as they are. */
	if (screen_text(b, text, len, 0)) {
		char *work = rc_xmalloc(len + 3);
		memcpy(work, text, len);
		screen_text(b, work, len, 1);
		scan_text(b, work, len);
		free(work);
	} else {
		scan_text(b, text, len);
		text[len] = '\0'; /* the file text again, NUL-terminated */
	}
	b->file = saved_file;
	b->last_syntax_line = saved_line;
	b->last_syntax_file = saved_sfile;
	b->active.len--;
	return 0;
}

void rc_build_include(rc_builder *b, const rc_tok *kw, const rc_tok *path)
{
	(void)kw;
	if (path->len == 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "empty include path, expected a file name");
		return;
	}
	if (b->depth + 1 > RC_MAX_INCLUDE_DEPTH) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "includes nested deeper than %d files, expected a shallower include chain",
		            RC_MAX_INCLUDE_DEPTH);
		const rc_file *f = rc_diags_file(D(b), b->file);
		int shown = 0;
		while (f && f->parent >= 0 && shown < 8) {
			rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
			f = rc_diags_file(D(b), f->parent);
			shown++;
		}
		return;
	}
	const rc_file *cur = rc_diags_file(D(b), b->file);
	char *full;
	if (path->text[0] == '/' || !cur) {
		full = rc_arena_strdup(&b->ir->arena, path->text);
	} else {
		const char *slash = strrchr(cur->path, '/');
		if (slash)
			full = rc_arena_printf(&b->ir->arena, "%.*s/%s", (int)(slash - cur->path),
			                       cur->path, path->text);
		else
			full = rc_arena_strdup(&b->ir->arena, path->text);
	}
	b->depth++;
	load_one(b, full, path->loc);
	b->depth--;
}

static void builder_init(rc_builder *b, rc_ir *ir)
{
	memset(b, 0, sizeof *b);
	b->ir = ir;
	b->file = -1;
	b->last_syntax_file = -2;
	rc_vec_init(&b->blocks, sizeof(block));
	rc_vec_init(&b->active, sizeof(struct active_file));
	rc_buf_init(&b->scratch);
	rc_vec_init(&b->ttoks, sizeof(rd_ttok));
}

static void builder_fini(rc_builder *b)
{
	rc_vec_fini(&b->blocks);
	rc_vec_fini(&b->active);
	rc_buf_fini(&b->scratch);
	rc_vec_fini(&b->ttoks);
}

int rc_load_file(rc_ir *ir, const char *path)
{
	rc_builder b;
	builder_init(&b, ir);
	int rc = load_one(&b, path, RC_NOLOC);
	builder_fini(&b);
	return rc;
}

int rc_load_text(rc_ir *ir, const char *name, const char *text, size_t len)
{
	rc_builder b;
	builder_init(&b, ir);
	char *copy = rc_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	int32_t id = rc_diags_add_file(ir->diags, name, copy, len, -1, RC_NOLOC);
	ir->top_file = id;
	b.file = id;
	char *work = rc_xmalloc(len + 3);
	memcpy(work, text, len);
	work[len] = '\n';
	work[len + 1] = '\0';
	work[len + 2] = '\0';
	reserve_rules(ir, work, len);
	screen_text(&b, work, len, 1);
	parse_buffer(&b, work, len + 1);
	free(work);
	builder_fini(&b);
	return 0;
}
