/*
 * load.c - files: read a whole file (regular files only, 1 GiB at most),
 * screen its bytes (NUL and invalid UTF-8 are reported once per line and
 * the line is skipped), run the scanner and parser over it in place, and
 * expand includes on a fresh scanner (cycles and depth are `include`
 * errors with the include chain).
 *
 * Includes are confined: the included path, symlinks resolved (realpath),
 * must lie under the folder of the top file or under a root given with
 * -I.  A file is read and parsed once: its statements are kept, and each
 * further inclusion replays them through the same actions (with its own
 * include chain); at most RC_MAX_INCLUDE_REPLAY statements are replayed
 * in all, so a file that includes the next one twice, 20 deep, ends in an
 * `include` error at once instead of 2^20 parses.  A file whose name does
 * not end in ".redir" may hold anything (a secret beside the rules, or
 * /proc/self/environ under an -I root): a message quotes at most
 * RC_EXCERPT_MAX bytes of it, the source line under a diagnostic too, and
 * the rest of the file after its first diagnostic is skipped.
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
		if (rc_builder_stop_file(b)) {
			/* not a .redir file: one diagnostic, then nothing more of it */
			memset(text + line_start, ' ', len - line_start);
			return 0;
		}
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

static void close_blocks(rc_builder *b, size_t depth_at_start);

static void parse_buffer(rc_builder *b, char *text, size_t len)
{
	rc_parse ctx;
	memset(&ctx, 0, sizeof ctx);
	ctx.builder = b;
	ctx.line_ended = 0;
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
	close_blocks(b, depth_at_start);
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

/* ---- statements kept for the next inclusions ------------------------------ */

struct rec_stmt {
	enum rec_kind kind;
	rc_tok *t[4];
	rc_toklist list;
	rc_attrlist attrs;
};

static rc_tok *tok_keep(rc_builder *b, const rc_tok *t)
{
	if (!t)
		return NULL;
	rc_tok *c = rc_arena_alloc_raw(&b->ir->arena, sizeof *c);
	*c = *t;
	return c;
}

void rc_rec_stmt(rc_builder *b, enum rec_kind kind, const rc_tok *t0, const rc_tok *t1,
                 const rc_tok *t2, const rc_tok *t3, const rc_toklist *list,
                 const rc_attrlist *attrs)
{
	if (!b->rec)
		return;
	struct rec_stmt *r = rc_vec_push(b->rec);
	r->kind = kind;
	r->t[0] = tok_keep(b, t0);
	r->t[1] = tok_keep(b, t1);
	r->t[2] = tok_keep(b, t2);
	r->t[3] = tok_keep(b, t3);
	memset(&r->list, 0, sizeof r->list);
	memset(&r->attrs, 0, sizeof r->attrs);
	if (list)
		r->list = *list;
	if (attrs)
		r->attrs = *attrs;
}

int rc_builder_stop_file(rc_builder *b)
{
	return b->excerpt_only && D(b)->errors + D(b)->warnings > b->diag_mark;
}

/* Run a kept statement again, its locations in the file entry `file`. */
static void replay_stmt(rc_builder *b, struct rec_stmt *r, int32_t file)
{
	for (int i = 0; i < 4; i++)
		if (r->t[i])
			r->t[i]->loc.file = file;
	for (rc_toknode *n = r->list.head; n; n = n->next)
		n->tok.loc.file = file;
	for (rc_attrnode *a = r->attrs.head; a; a = a->next) {
		a->key.loc.file = file;
		a->value.loc.file = file;
	}
	switch (r->kind) {
	case REC_SETTING:
		rc_build_setting(b, r->t[0], r->t[1], &r->list);
		break;
	case REC_ALLOW_HOST:
		rc_build_allow_host(b, r->t[0], &r->list);
		break;
	case REC_INCLUDE:
		rc_build_include(b, r->t[0], r->t[1]);
		break;
	case REC_HOST_OPEN:
		rc_build_host_open(b, r->t[0], &r->list);
		break;
	case REC_GROUP_OPEN:
		rc_build_group_open(b, r->t[0], r->t[1], &r->attrs);
		break;
	case REC_CLOSE:
		rc_build_close(b, r->t[0]);
		break;
	case REC_RULE:
		rc_build_rule(b, r->t[0], r->t[1], r->t[2], &r->attrs);
		break;
	case REC_EXPECT:
		rc_build_expect(b, r->t[0], r->t[1], r->t[2], r->t[3]);
		break;
	case REC_SYNTAX:
		rc_build_syntax_error(b, r->t[0]->loc, r->t[0]->text);
		break;
	default:
		rc_diag_add(D(b), RC_SEV_ERROR, "include", r->t[0] ? r->t[0]->loc : RC_NOLOC,
		            "bug: a kept statement of unknown kind %d", (int)r->kind);
		break;
	}
}

/* ---- one file ----------------------------------------------------------------- */

/* The state of the file being read, saved around an include. */
struct file_state {
	int32_t file;
	uint32_t last_syntax_line;
	int32_t last_syntax_file;
	rc_vec *rec;
	size_t quote_max;
	int excerpt_only;
	size_t diag_mark;
};

static int name_is_redir(const char *path)
{
	size_t n = strlen(path);
	return n >= 6 && strcmp(path + n - 6, ".redir") == 0;
}

static void file_enter(rc_builder *b, struct file_state *saved, int32_t id, rc_vec *rec)
{
	saved->file = b->file;
	saved->last_syntax_line = b->last_syntax_line;
	saved->last_syntax_file = b->last_syntax_file;
	saved->rec = b->rec;
	saved->quote_max = b->quote_max;
	saved->excerpt_only = b->excerpt_only;
	saved->diag_mark = b->diag_mark;
	rc_file *f = RC_VEC_AT(&D(b)->files, rc_file, id);
	b->file = id;
	b->rec = rec;
	b->excerpt_only = !name_is_redir(f->path);
	b->quote_max = b->excerpt_only ? RC_EXCERPT_MAX : 0;
	if (b->excerpt_only)
		f->show_max = RC_EXCERPT_MAX;
	b->diag_mark = D(b)->errors + D(b)->warnings;
}

static void file_leave(rc_builder *b, const struct file_state *saved)
{
	b->file = saved->file;
	b->last_syntax_line = saved->last_syntax_line;
	b->last_syntax_file = saved->last_syntax_file;
	b->rec = saved->rec;
	b->quote_max = saved->quote_max;
	b->excerpt_only = saved->excerpt_only;
	b->diag_mark = saved->diag_mark;
}

/* Blocks opened in a file must close in it. */
static void close_blocks(rc_builder *b, size_t depth_at_start)
{
	while (b->blocks.len > depth_at_start) {
		block *o = RC_VEC_AT(&b->blocks, block, b->blocks.len - 1);
		rc_diag_add(D(b), RC_SEV_ERROR, "syntax", o->loc,
		            "%s block is never closed, expected '}' before the end of the file",
		            o->kind == BLOCK_HOST ? "host" : "group");
		b->blocks.len--;
	}
}

/* "'x' was included from here" notes, innermost first, at most 8. */
static void note_chain(rc_builder *b, int32_t file)
{
	const rc_file *f = rc_diags_file(D(b), file);
	int shown = 0;
	while (f && f->parent >= 0 && shown < 8) {
		rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
		f = rc_diags_file(D(b), f->parent);
		shown++;
	}
}

/* Is (dev, ino) being read?  Then report the cycle and return 1. */
static int is_active(rc_builder *b, dev_t dev, ino_t ino, const char *path, rc_loc at)
{
	for (size_t i = 0; i < b->active.len; i++) {
		struct active_file *af = RC_VEC_AT(&b->active, struct active_file, i);
		if (af->dev != dev || af->ino != ino)
			continue;
		rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
		            "include cycle: '%s' is already being read, expected includes to form no cycle",
		            path);
		for (size_t j = b->active.len; j-- > i + 1;) {
			struct active_file *cf = RC_VEC_AT(&b->active, struct active_file, j);
			const rc_file *f = rc_diags_file(D(b), cf->file);
			rc_diag_note(D(b), f->included_at, "'%s' was included from here", f->path);
		}
		return 1;
	}
	return 0;
}

static void active_push(rc_builder *b, dev_t dev, ino_t ino, int32_t id)
{
	struct active_file *af = rc_vec_push(&b->active);
	af->dev = dev;
	af->ino = ino;
	af->file = id;
}

/* Parse one file in place: `path` as shown, `open_path` as opened.  `at`
 * is the include statement (file -1 for the top file).  Returns 0, or -1
 * if the file could not be read. */
static int load_one(rc_builder *b, const char *path, const char *open_path, rc_loc at)
{
	size_t len = 0;
	int err = 0;
	struct stat st;
	char *text = read_file(open_path, &len, &err, &st);
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
	if (is_active(b, st.st_dev, st.st_ino, path, at)) {
		free(text);
		return 0;
	}
	int32_t id = rc_diags_add_file(D(b), path, text, len, at.file < 0 ? -1 : b->file, at);
	if (at.file < 0)
		reserve_rules(b->ir, text, len);
	struct parsed_file *pf = NULL;
	if (at.file >= 0) {
		/* kept for the next inclusions of the same file */
		pf = rc_xmalloc(sizeof *pf);
		pf->dev = st.st_dev;
		pf->ino = st.st_ino;
		pf->file = id;
		pf->complete = 0;
		rc_vec_init(&pf->stmts, sizeof(struct rec_stmt));
		*(struct parsed_file **)rc_vec_push(&b->parsed) = pf;
	}
	active_push(b, st.st_dev, st.st_ino, id);
	struct file_state saved;
	file_enter(b, &saved, id, pf ? &pf->stmts : NULL);
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
	file_leave(b, &saved);
	b->active.len--;
	if (pf)
		pf->complete = 1;
	return 0;
}

/* Include a file read before: replay its statements. */
static void replay_file(rc_builder *b, struct parsed_file *pf, const char *path, rc_loc at)
{
	const rc_file *src = rc_diags_file(D(b), pf->file);
	char *text = src->text;
	size_t len = src->len;
	int32_t id = rc_diags_add_file(D(b), path, text, len, b->file, at);
	RC_VEC_AT(&D(b)->files, rc_file, id)->borrowed = 1;
	active_push(b, pf->dev, pf->ino, id);
	struct file_state saved;
	file_enter(b, &saved, id, NULL);
	size_t depth_at_start = b->blocks.len;
	for (size_t i = 0; i < pf->stmts.len && !b->expansion_failed; i++) {
		if (++b->replayed > RC_MAX_INCLUDE_REPLAY) {
			b->expansion_failed = 1;
			rc_diag_add(D(b), RC_SEV_ERROR, "include", at,
			            "includes expand to more than %d repeated statements: '%s' is included "
			            "again here, expected each file included a bounded number of times (a file "
			            "is parsed once; every further inclusion repeats its statements); no rule "
			            "is checked",
			            RC_MAX_INCLUDE_REPLAY, path);
			note_chain(b, saved.file);
			break;
		}
		replay_stmt(b, RC_VEC_AT(&pf->stmts, struct rec_stmt, i), id);
		if (rc_builder_stop_file(b))
			break;
	}
	close_blocks(b, depth_at_start);
	file_leave(b, &saved);
	b->active.len--;
}

static struct parsed_file *parsed_find(rc_builder *b, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < b->parsed.len; i++) {
		struct parsed_file *pf = *(struct parsed_file **)RC_VEC_AT(&b->parsed, struct parsed_file *, i);
		if (pf->dev == dev && pf->ino == ino)
			return pf;
	}
	return NULL;
}

/* Is the resolved path under one of the roots? */
static int under_root(const rc_builder *b, const char *resolved)
{
	for (size_t i = 0; i < b->nroots; i++) {
		const char *root = b->roots[i];
		size_t n = strlen(root);
		if (strncmp(resolved, root, n) == 0 &&
		    (resolved[n] == '/' || (n > 0 && root[n - 1] == '/')))
			return 1;
	}
	return 0;
}

void rc_build_include(rc_builder *b, const rc_tok *kw, const rc_tok *path)
{
	rc_rec_stmt(b, REC_INCLUDE, kw, path, NULL, NULL, NULL, NULL);
	if (b->expansion_failed)
		return; /* reported once */
	if (path->len == 0) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "empty include path, expected a file name");
		return;
	}
	if (b->depth + 1 > RC_MAX_INCLUDE_DEPTH) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "includes nested deeper than %d files, expected a shallower include chain",
		            RC_MAX_INCLUDE_DEPTH);
		note_chain(b, b->file);
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
	const char *shown = rc_quote(&b->ir->arena, full, strlen(full), 200);
	/* symlinks resolved before the check: a link inside the folder that
	 * points outside it is outside */
	char *resolved = realpath(full, NULL);
	if (!resolved) {
		int err = errno;
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "cannot read included file '%s': %s (%s)", shown, errno_text(err),
		            retry_can_help(err) ? "a retry may help" : "a retry will not help until the file is fixed");
		return;
	}
	if (!under_root(b, resolved)) {
		rc_diag_add(D(b), RC_SEV_ERROR, "include", path->loc,
		            "included file '%s' resolves to '%s', outside the folder of the top file%s, "
		            "expected a file under it (name another folder with -I DIR; a retry will not help)",
		            shown, rc_quote(&b->ir->arena, resolved, strlen(resolved), 200),
		            b->nroots > 1 ? " and the -I folders" : "");
		note_chain(b, b->file);
		free(resolved);
		return;
	}
	struct stat st;
	struct parsed_file *pf = NULL;
	if (stat(resolved, &st) == 0) {
		if (is_active(b, st.st_dev, st.st_ino, shown, path->loc)) {
			free(resolved);
			return;
		}
		pf = parsed_find(b, st.st_dev, st.st_ino);
	}
	b->depth++;
	if (pf && pf->complete)
		replay_file(b, pf, full, path->loc);
	else
		load_one(b, full, resolved, path->loc);
	b->depth--;
	free(resolved);
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
	rc_vec_init(&b->parsed, sizeof(struct parsed_file *));
}

static void builder_fini(rc_builder *b)
{
	rc_vec_fini(&b->blocks);
	rc_vec_fini(&b->active);
	rc_buf_fini(&b->scratch);
	rc_vec_fini(&b->ttoks);
	for (size_t i = 0; i < b->parsed.len; i++) {
		struct parsed_file *pf = *(struct parsed_file **)RC_VEC_AT(&b->parsed, struct parsed_file *, i);
		rc_vec_fini(&pf->stmts);
		free(pf);
	}
	rc_vec_fini(&b->parsed);
}

/* The folder of a path as given, resolved (heap), or NULL. */
static char *folder_realpath(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	if (!slash)
		dir = rc_xstrdup(".");
	else if (slash == path)
		dir = rc_xstrdup("/");
	else {
		dir = rc_xstrdup(path);
		dir[slash - path] = '\0';
	}
	char *r = realpath(dir, NULL);
	free(dir);
	return r;
}

/* roots[0] = the folder of `top`, then the -I folders; -1 after a
 * diagnostic when an -I folder cannot be resolved. */
static int roots_init(rc_builder *b, char **roots, const char *top, const char *const *extra,
                      size_t nextra)
{
	size_t n = 0;
	char *first = folder_realpath(top);
	if (first)
		roots[n++] = first;
	for (size_t i = 0; i < nextra; i++) {
		char *r = realpath(extra[i], NULL);
		struct stat st;
		if (!r || stat(r, &st) != 0 || !S_ISDIR(st.st_mode)) {
			int err = r ? ENOTDIR : errno;
			rc_diag_add(D(b), RC_SEV_ERROR, "include", RC_NOLOC,
			            "cannot use the include folder -I '%s': %s (a retry will not help until "
			            "the path is fixed)", rc_quote(&b->ir->arena, extra[i], strlen(extra[i]), 200),
			            strerror(err));
			free(r);
			b->roots = (const char *const *)roots;
			b->nroots = n;
			return -1;
		}
		roots[n++] = r;
	}
	b->roots = (const char *const *)roots;
	b->nroots = n;
	return 0;
}

static void roots_fini(char **roots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(roots[i]);
	free(roots);
}

int rc_load_file_roots(rc_ir *ir, const char *path, const char *const *roots, size_t nroots)
{
	rc_builder b;
	builder_init(&b, ir);
	char **own = rc_xmalloc((nroots + 1) * sizeof *own);
	int rc = roots_init(&b, own, path, roots, nroots);
	if (rc == 0)
		rc = load_one(&b, path, path, RC_NOLOC);
	if (b.expansion_failed) {
		/* the rules were cut at an arbitrary point: checking them would
		 * only bury the include error under consequences */
		ir->rules.len = 0;
		ir->expects.len = 0;
	}
	roots_fini(own, b.nroots);
	builder_fini(&b);
	return rc;
}

int rc_load_file(rc_ir *ir, const char *path)
{
	return rc_load_file_roots(ir, path, NULL, 0);
}

int rc_load_text(rc_ir *ir, const char *name, const char *text, size_t len)
{
	rc_builder b;
	builder_init(&b, ir);
	char **own = rc_xmalloc(sizeof *own);
	roots_init(&b, own, name, NULL, 0);
	char *copy = rc_xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	int32_t id = rc_diags_add_file(ir->diags, name, copy, len, -1, RC_NOLOC);
	ir->top_file = id;
	struct file_state saved;
	file_enter(&b, &saved, id, NULL);
	char *work = rc_xmalloc(len + 3);
	memcpy(work, text, len);
	work[len] = '\n';
	work[len + 1] = '\0';
	work[len + 2] = '\0';
	reserve_rules(ir, work, len);
	screen_text(&b, work, len, 1);
	parse_buffer(&b, work, len + 1);
	free(work);
	file_leave(&b, &saved);
	roots_fini(own, b.nroots);
	builder_fini(&b);
	return 0;
}
