/*
 * diag.h - diagnostic records and the source files they point into.
 *
 * Checks queue records (severity, stable name, location, message, notes)
 * and go on, so one run reports many problems; the driver prints them once,
 * in GCC's layout or as JSON (spec section 6).  Source text stays in memory,
 * so the printer never re-reads a file.
 *
 * Ownership: rc_diags owns the file texts and every record.
 */
#ifndef RC_DIAG_H
#define RC_DIAG_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include "compiler/util.h"

/* A place in a source file: 1-based line and byte column, and the span
 * length in bytes (0 = a point). */
typedef struct rc_loc {
	int32_t file; /* index into rc_diags.files, -1 = no place */
	uint32_t line;
	uint32_t col;
	uint32_t len;
} rc_loc;

#define RC_NOLOC ((rc_loc){ -1, 0, 0, 0 })

typedef struct rc_file {
	char *path;      /* as the compiler opened it */
	char *text;      /* whole file, NUL-terminated */
	size_t len;
	int32_t parent;  /* the including file, -1 for the top file */
	rc_loc included_at;
	int borrowed;    /* text belongs to an earlier entry (a file included
	                  * again: grammar/load.c), not freed with this one */
	size_t show_max; /* 0, or the most bytes of a line shown under a
	                  * diagnostic (a file that is not a .redir file) */
} rc_file;

enum rc_severity {
	RC_SEV_NOTE = 0,
	RC_SEV_WARNING = 1,
	RC_SEV_ERROR = 2,
};

typedef struct rc_note {
	rc_loc loc;
	char *message;
} rc_note;

typedef struct rc_diag {
	enum rc_severity severity;
	const char *name; /* stable name, e.g. "shadowed" */
	rc_loc loc;
	char *message;
	rc_vec notes;     /* rc_note */
} rc_diag;

/* Per-name policy from -Wno-NAME, -Werror=NAME, -Werror. */
enum rc_name_policy {
	RC_NAME_DEFAULT = 0,
	RC_NAME_IGNORE = 1,
	RC_NAME_ERROR = 2,
};

typedef struct rc_diags {
	rc_vec files;     /* rc_file */
	rc_vec records;   /* rc_diag */
	size_t errors;
	size_t warnings;
	size_t max_errors; /* 0 = no limit; later errors are counted, not kept */
	size_t dropped;
	int werror;
	rc_vec policies;  /* struct { const char *name; int policy; } */
	int last_kept;    /* the last record was kept (notes attach to it) */
} rc_diags;

void rc_diags_init(rc_diags *d);
void rc_diags_fini(rc_diags *d);

/* Register a file; takes ownership of `text` (malloc'ed). */
int32_t rc_diags_add_file(rc_diags *d, const char *path, char *text,
                          size_t len, int32_t parent, rc_loc included_at);
const rc_file *rc_diags_file(const rc_diags *d, int32_t i);

/* The stable diagnostic names (spec section 4), NULL-terminated. */
extern const char *const rc_diag_names[];

/* Is `name` one of the stable diagnostic names? */
int rc_diag_name_is_known(const char *name);
/* Set a policy; returns -1 for an unknown name. */
int rc_diags_set_policy(rc_diags *d, const char *name, enum rc_name_policy p);

/* Queue a diagnostic.  Warnings can be dropped or promoted by policy. */
void rc_diag_add(rc_diags *d, enum rc_severity sev, const char *name,
                 rc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void rc_diag_vadd(rc_diags *d, enum rc_severity sev, const char *name,
                  rc_loc loc, const char *fmt, va_list ap);
/* Attach a note to the last diagnostic queued. */
void rc_diag_note(rc_diags *d, rc_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Print every record, sorted by file (in the order files were read), line
 * and column: GCC's layout, the JSON array of spec section 7, or SARIF 2.1.0
 * (one run; `version` is the tool's version). */
void rc_diags_print_text(const rc_diags *d, FILE *out, int color);
void rc_diags_print_json(const rc_diags *d, FILE *out);
void rc_diags_print_sarif(const rc_diags *d, FILE *out, const char *version);

/* Write s (NUL-terminated, or n bytes) as a JSON string: quoted, control
 * bytes as \uXXXX, invalid UTF-8 as U+FFFD.  The one JSON string writer
 * of diagnostics, reports and the review commands. */
void rc_json_string(FILE *out, const char *s);
void rc_json_stringn(FILE *out, const char *s, size_t n);

/* Quote a user value for a message: printable ASCII kept, other bytes as
 * \xNN, cut after `max` bytes with "…".  Result is arena-owned. */
char *rc_quote(rc_arena *a, const char *s, size_t n, size_t max);

#endif /* RC_DIAG_H */
