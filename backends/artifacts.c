/*
 * artifacts.c - publish the artifact set of a compile whole or not at all.
 *
 * Every artifact is written to a temporary file beside its final path
 * (BASE+suffix.tmp-XXXXXX, created with the mode of the file it replaces,
 * or 0666 less the umask).  The first file takes the lock BASE.lock, so two
 * compiles of one BASE cannot interleave.  Commit keeps a hard link to each
 * file being replaced (BASE+suffix.tmp-XXXXXX.old; a copy on a file system
 * without hard links), renames every temporary
 * into place and, when a rename fails, renames the links back: the earlier
 * files are then what they were.  A write error names the final file (the
 * temporaries are removed); SIGXFSZ is ignored, so a file size limit is a
 * write error (EFBIG) like a full disk, not a kill.
 */
#include "backends/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

void rc_artifacts_init(rc_artifacts *a, const char *base)
{
	memset(a, 0, sizeof *a);
	a->base = rc_xstrdup(base);
	rc_vec_init(&a->items, sizeof(rc_artifact));
	a->lock_fd = -1;
	mode_t mask = umask(0);
	umask(mask);
	a->new_mode = 0666u & ~(unsigned)mask;
	/* past `ulimit -f` a write fails with EFBIG instead of killing the
	 * process, so the temporaries are removed and the file is named */
	signal(SIGXFSZ, SIG_IGN);
}

static const char *retry_hint(int err)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		return "a retry may help once there is space";
	case EFBIG:
		return "the file size limit, ulimit -f, was reached; a retry may help with a larger limit";
	case EINTR:
	case EIO:
	case EAGAIN:
		return "a retry may help";
	default:
		return "a retry will not help until the path is fixed";
	}
}

static void set_message(rc_artifacts *a, char *message)
{
	if (a->error) {
		free(message);
		return;
	}
	a->error = message;
	a->failed = 1;
}

static void set_error(rc_artifacts *a, const char *what, const char *path, int err)
{
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_printf(&b, "cannot %s '%s': %s (%s)", what, path, strerror(err), retry_hint(err));
	set_message(a, b.data);
}

char *rc_artifacts_final_path(const rc_artifacts *a, const char *suffix)
{
	rc_buf b;
	rc_buf_init(&b);
	if (a->base[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof cwd)) {
			rc_buf_adds(&b, cwd);
			rc_buf_addc(&b, '/');
		}
	}
	rc_buf_adds(&b, a->base);
	rc_buf_adds(&b, suffix);
	return b.data;
}

/* ---- the lock ------------------------------------------------------------ */

/* Take BASE.lock without waiting; 0, or -1 after set_error.  The holder
 * removes the file when done; a compile that opened the file just before
 * it was removed sees another inode at the path and tries again. */
static int lock_take(rc_artifacts *a)
{
	if (a->lock_fd >= 0)
		return 0;
	rc_buf p;
	rc_buf_init(&p);
	rc_buf_printf(&p, "%s.lock", a->base);
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			set_error(a, "create the lock file", p.data, errno);
			break;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			int err = errno;
			close(fd);
			rc_buf m;
			rc_buf_init(&m);
			if (err == EWOULDBLOCK)
				rc_buf_printf(&m, "another redirc compile is writing '%s' (it holds the lock '%s'); "
				              "a retry may help once it has finished", a->base, p.data);
			else
				rc_buf_printf(&m, "cannot lock '%s': %s (%s)", p.data, strerror(err),
				              retry_hint(err));
			set_message(a, m.data);
			break;
		}
		struct stat held, now;
		if (fstat(fd, &held) == 0 && stat(p.data, &now) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino) {
			a->lock_fd = fd;
			a->lock_path = p.data;
			return 0;
		}
		close(fd); /* removed by its last holder meanwhile: again */
	}
	if (!a->failed)
		set_message(a, rc_xstrdup("cannot take the lock of the artifacts (it keeps being "
		                          "replaced); a retry may help"));
	rc_buf_fini(&p);
	return -1;
}

static void lock_release(rc_artifacts *a)
{
	if (a->lock_fd < 0)
		return;
	unlink(a->lock_path); /* while held: see lock_take */
	close(a->lock_fd);
	a->lock_fd = -1;
	free(a->lock_path);
	a->lock_path = NULL;
}

/* ---- files ---------------------------------------------------------------- */

/* An empty temporary file beside the item's final path, with the mode of
 * the file it will replace (or the umask's); its fd, or -1. */
static int item_create(rc_artifacts *a, rc_artifact *it)
{
	if (a->failed || lock_take(a) != 0)
		return -1;
	rc_buf t;
	rc_buf_init(&t);
	rc_buf_printf(&t, "%s.tmp-XXXXXX", it->final_path);
	int fd = mkstemp(t.data);
	if (fd < 0) {
		set_error(a, "create a file beside", it->final_path, errno);
		rc_buf_fini(&t);
		return -1;
	}
	struct stat st;
	unsigned mode = a->new_mode;
	if (stat(it->final_path, &st) == 0 && S_ISREG(st.st_mode))
		mode = (unsigned)st.st_mode & 07777u;
	if (fchmod(fd, (mode_t)mode) != 0) {
		set_error(a, "set the mode of", t.data, errno);
		close(fd);
		unlink(t.data);
		rc_buf_fini(&t);
		return -1;
	}
	it->tmp_path = t.data;
	return fd;
}

static rc_artifact *item_push(rc_artifacts *a, const char *suffix)
{
	rc_artifact *it = rc_vec_push(&a->items);
	memset(it, 0, sizeof *it);
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_printf(&b, "%s%s", a->base, suffix);
	it->final_path = b.data;
	return it;
}

FILE *rc_artifacts_open(rc_artifacts *a, const char *suffix)
{
	rc_artifact *it = item_push(a, suffix);
	int fd = item_create(a, it);
	if (fd < 0)
		return NULL;
	it->fp = fdopen(fd, "w");
	if (!it->fp) {
		set_error(a, "open", it->tmp_path, errno);
		close(fd);
		return NULL;
	}
	return it->fp;
}

const char *rc_artifacts_reserve(rc_artifacts *a, const char *suffix)
{
	rc_artifact *it = item_push(a, suffix);
	int fd = item_create(a, it);
	if (fd < 0)
		return NULL;
	close(fd);
	return it->tmp_path;
}

int rc_artifacts_flush(rc_artifacts *a)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (!it->fp)
			continue;
		errno = 0;
		if (fflush(it->fp) != 0 || ferror(it->fp))
			set_error(a, "write", it->final_path, errno ? errno : EIO);
	}
	return a->failed ? -1 : 0;
}

void rc_artifacts_write_failed(rc_artifacts *a, const char *tmp_path, int err)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (it->tmp_path && tmp_path && strcmp(it->tmp_path, tmp_path) == 0) {
			set_error(a, "write", it->final_path, err ? err : EIO);
			return;
		}
	}
	set_error(a, "write", tmp_path ? tmp_path : a->base, err ? err : EIO);
}

int rc_artifacts_check_apache_paths(rc_artifacts *a, const char *map_dir)
{
	char *named;
	if (map_dir) {
		const char *slash = strrchr(a->base, '/');
		rc_buf b;
		rc_buf_init(&b);
		rc_buf_printf(&b, "%s/%s", map_dir, slash ? slash + 1 : a->base);
		named = b.data;
	} else {
		named = rc_artifacts_final_path(a, "");
	}
	int st = 0;
	if (strchr(named, '$')) {
		rc_buf m;
		rc_buf_init(&m);
		rc_buf_printf(&m, "the Apache configuration would name its files by the path '%s', which "
		              "holds a '$': Apache expands ${NAME} in configuration lines; choose %s "
		              "without '$' (a retry will not help)",
		              named, map_dir ? "a --map-dir and -o" : "an -o (and working directory)");
		set_message(a, m.data);
		st = -1;
	}
	free(named);
	return st;
}

/* ---- publication ------------------------------------------------------------ */

/* Copy the file `from` to the new file `to`; 0, or -1 with *err set (and
 * `to` removed). */
static int copy_file(const char *from, const char *to, mode_t mode, int *err)
{
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		*err = errno;
		return -1;
	}
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
	if (out < 0) {
		*err = errno;
		close(in);
		return -1;
	}
	char buf[65536];
	int st = 0;
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				*err = errno;
				st = -1;
			}
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				*err = w < 0 ? errno : EIO;
				st = -1;
				break;
			}
			off += w;
		}
		if (st != 0)
			break;
	}
	if (close(out) != 0 && st == 0) {
		*err = errno;
		st = -1;
	}
	close(in);
	if (st != 0)
		unlink(to);
	return st;
}

/* Keep the regular file that it->final_path names now (a hard link), so
 * that a failed publication can put it back; 0 or -1 after set_error. */
static int item_keep_old(rc_artifacts *a, rc_artifact *it)
{
	struct stat st;
	if (lstat(it->final_path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		set_error(a, "inspect", it->final_path, errno);
		return -1;
	}
	if (!S_ISREG(st.st_mode))
		return 0; /* a directory in the way: its rename fails and is rolled back */
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_printf(&b, "%s.old", it->tmp_path);
	if (link(it->final_path, b.data) != 0) {
		int err = errno;
		/* a file system without hard links: a copy does the same */
		if ((err != EPERM && err != EOPNOTSUPP && err != EMLINK && err != ENOSYS) ||
		    copy_file(it->final_path, b.data, st.st_mode, &err) != 0) {
			set_error(a, "keep a copy of", it->final_path, err);
			rc_buf_fini(&b);
			return -1;
		}
	}
	it->old_path = b.data;
	return 0;
}

/* Undo the renames done so far: the kept files go back, the new files
 * that replaced nothing are removed. */
static void rollback(rc_artifacts *a)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (!it->renamed)
			continue;
		int bad = it->old_path ? rename(it->old_path, it->final_path)
		                       : unlink(it->final_path);
		if (bad != 0) {
			/* add to the error what is left new, and where the old file is */
			rc_buf m;
			rc_buf_init(&m);
			rc_buf_printf(&m, "%s; and '%s' could not be restored (%s): it holds the new version",
			              a->error ? a->error : "publication failed", it->final_path,
			              strerror(errno));
			if (it->old_path)
				rc_buf_printf(&m, ", the previous one is '%s'", it->old_path);
			free(a->error);
			a->error = m.data;
			free(it->old_path); /* kept on disk */
			it->old_path = NULL;
		} else if (it->old_path) {
			free(it->old_path);
			it->old_path = NULL;
		}
		it->renamed = 0;
	}
}

int rc_artifacts_commit(rc_artifacts *a)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (!it->fp)
			continue;
		int bad = ferror(it->fp) != 0;
		int err = bad ? EIO : 0;
		errno = 0;
		if (fflush(it->fp) != 0 || fsync(fileno(it->fp)) != 0) {
			bad = 1;
			err = errno;
		}
		if (fclose(it->fp) != 0 && !bad) {
			bad = 1;
			err = errno;
		}
		it->fp = NULL;
		if (bad)
			set_error(a, "write", it->final_path, err ? err : EIO);
	}
	for (size_t i = 0; i < a->items.len && !a->failed; i++)
		item_keep_old(a, RC_VEC_AT(&a->items, rc_artifact, i));
	for (size_t i = 0; i < a->items.len && !a->failed; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (rename(it->tmp_path, it->final_path) != 0) {
			set_error(a, "rename into", it->final_path, errno);
			rollback(a);
			break;
		}
		it->renamed = 1;
	}
	if (a->failed) {
		rc_artifacts_abort(a);
		return -1;
	}
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		free(it->tmp_path);
		it->tmp_path = NULL;
		it->renamed = 0;
		if (it->old_path) {
			unlink(it->old_path);
			free(it->old_path);
			it->old_path = NULL;
		}
	}
	return 0;
}

void rc_artifacts_abort(rc_artifacts *a)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (it->fp) {
			fclose(it->fp);
			it->fp = NULL;
		}
		if (it->tmp_path) {
			if (!it->renamed)
				unlink(it->tmp_path);
			free(it->tmp_path);
			it->tmp_path = NULL;
		}
		if (it->old_path) {
			unlink(it->old_path);
			free(it->old_path);
			it->old_path = NULL;
		}
	}
}

void rc_artifacts_fini(rc_artifacts *a)
{
	rc_artifacts_abort(a);
	lock_release(a);
	for (size_t i = 0; i < a->items.len; i++)
		free(RC_VEC_AT(&a->items, rc_artifact, i)->final_path);
	rc_vec_fini(&a->items);
	free(a->base);
	free(a->error);
}
