/*
 * backend.h - the interface every target implements, and the artifact set
 * they write into.
 *
 * A backend turns a checked IR into files.  It never writes to a final
 * path: it asks rc_artifacts for a stream by suffix (BASE + suffix), and the
 * driver renames every temporary file into place only after every target
 * succeeded (spec section 5: atomic outputs).  A rule the target cannot
 * express is reported as a `backend` error naming the rule, and the emit
 * function returns -1.
 */
#ifndef RC_BACKEND_H
#define RC_BACKEND_H

#include <stdio.h>

#include "compiler/ir.h"

typedef struct rc_artifact {
	char *final_path;
	char *tmp_path;
	FILE *fp;
} rc_artifact;

typedef struct rc_artifacts {
	char *base;       /* BASE as given with -o */
	rc_vec items;     /* rc_artifact */
	int failed;       /* an I/O error happened */
	char *error;      /* heap: what failed, for the driver to print */
} rc_artifacts;

void rc_artifacts_init(rc_artifacts *a, const char *base);
/* Open BASE+suffix for writing (a temporary file beside it). */
FILE *rc_artifacts_open(rc_artifacts *a, const char *suffix);
/* Reserve BASE+suffix for a file that a library writes by name: an empty
 * temporary file beside it, renamed or removed with the others.  Returns
 * its temporary path (owned by the set), or NULL (the set has failed). */
const char *rc_artifacts_reserve(rc_artifacts *a, const char *suffix);
/* The absolute final path of BASE+suffix (heap). */
char *rc_artifacts_final_path(const rc_artifacts *a, const char *suffix);
/* Close every stream and rename into place; 0 or -1 (nothing renamed when
 * a close fails).  rc_artifacts_abort removes the temporary files. */
int rc_artifacts_commit(rc_artifacts *a);
void rc_artifacts_abort(rc_artifacts *a);
void rc_artifacts_fini(rc_artifacts *a);

struct rc_sv_cache;

typedef struct rc_emit_opts {
	const char *map_dir;  /* apache: deployed location of map files */
	const char *source_name; /* the top file as given */
	struct rc_sv_cache *sv_cache; /* nginx, apache: the exact layers, built once
	                               * for both (servers.h); NULL = per target */
} rc_emit_opts;

typedef struct rc_backend {
	const char *name;
	const char *description;
	int (*emit)(const rc_ir *ir, const rc_emit_opts *opts, rc_artifacts *out);
	int uses_server_layers; /* reads opts->sv_cache (servers.h): built once
	                         * for every such target of one compile */
} rc_backend;

/* NULL-terminated registry (backends.c). */
extern const rc_backend *const rc_backends[];
const rc_backend *rc_backend_find(const char *name);

#endif /* RC_BACKEND_H */
