/*
 * backend.h - the interface every target implements, and the artifact set
 * they write into.
 *
 * A backend turns a checked IR into files.  It never writes to a final
 * path: it asks rc_artifacts for a stream by suffix (BASE + suffix), and the
 * driver publishes the set only after every target succeeded (spec
 * section 5: atomic outputs; artifacts.c).  A rule the target cannot
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
	char *old_path;   /* commit: a hard link to the file it replaces */
	int renamed;      /* commit: tmp_path is now final_path */
	FILE *fp;
} rc_artifact;

typedef struct rc_artifacts {
	char *base;       /* BASE as given with -o */
	rc_vec items;     /* rc_artifact */
	int failed;       /* an I/O error happened */
	char *error;      /* heap: what failed, for the driver to print */
	unsigned new_mode; /* mode of a new file: 0666 less the umask */
	int lock_fd;      /* BASE.lock, held from the first file on, or -1 */
	char *lock_path;
} rc_artifacts;

/*
 * Publication (spec section 5: a failed compile leaves earlier artifacts
 * untouched):
 * - the first file opened takes BASE.lock (flock, never waited for): a
 *   second compile of the same BASE at the same time fails at once with a
 *   clear error (exit 2, a retry may help); the lock file is removed when
 *   the set is finished;
 * - every file is written to BASE+suffix.tmp-XXXXXX beside its final path,
 *   with the mode of the file it replaces, or 0666 less the umask;
 * - commit links each file it replaces to a backup, renames every
 *   temporary into place, and if one rename fails, puts the backups back
 *   (and removes the new files that had no predecessor): the set is
 *   published whole or not at all;
 * - a write error (ENOSPC, EDQUOT, EFBIG: SIGXFSZ is ignored from
 *   rc_artifacts_init on) names the final file; the temporaries are
 *   removed.
 */
void rc_artifacts_init(rc_artifacts *a, const char *base);
/* Open BASE+suffix for writing (a temporary file beside it). */
FILE *rc_artifacts_open(rc_artifacts *a, const char *suffix);
/* Reserve BASE+suffix for a file that a library writes by name: an empty
 * temporary file beside it, renamed or removed with the others.  Returns
 * its temporary path (owned by the set), or NULL (the set has failed). */
const char *rc_artifacts_reserve(rc_artifacts *a, const char *suffix);
/* The absolute final path of BASE+suffix (heap). */
char *rc_artifacts_final_path(const rc_artifacts *a, const char *suffix);
/* Flush every open stream; a write error fails the set, naming the final
 * file.  0, or -1 when the set has failed. */
int rc_artifacts_flush(rc_artifacts *a);
/* A library failed to write the reserved file `tmp_path` with errno `err`:
 * fail the set, naming its final file. */
void rc_artifacts_write_failed(rc_artifacts *a, const char *tmp_path, int err);
/* Apache expands ${VAR} in every configuration line: refuse (fail the set,
 * before anything is written) a path that the configuration would name
 * with a '$' in it: BASE made absolute, or with map_dir, map_dir and the
 * last part of BASE.  0, or -1. */
int rc_artifacts_check_apache_paths(rc_artifacts *a, const char *map_dir);
/* Close every stream and publish the set (see above); 0 or -1 (nothing
 * published).  rc_artifacts_abort removes the temporary files. */
int rc_artifacts_commit(rc_artifacts *a);
void rc_artifacts_abort(rc_artifacts *a);
/* Abort what is left, release the lock, free. */
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
