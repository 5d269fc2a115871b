/*
 * artifacts.c - write every artifact to a temporary file beside its final
 * path, and rename them all into place only when every target succeeded.
 */
#include "backends/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void rc_artifacts_init(rc_artifacts *a, const char *base)
{
	memset(a, 0, sizeof *a);
	a->base = rc_xstrdup(base);
	rc_vec_init(&a->items, sizeof(rc_artifact));
}

static void set_error(rc_artifacts *a, const char *what, const char *path, int err)
{
	if (a->error)
		return;
	rc_buf b;
	rc_buf_init(&b);
	rc_buf_printf(&b, "cannot %s '%s': %s (%s)", what, path, strerror(err),
	              err == ENOSPC || err == EDQUOT || err == EFBIG || err == EINTR || err == EIO
	                  ? "a retry may help once there is space"
	                  : "a retry will not help until the path is fixed");
	a->error = b.data;
	a->failed = 1;
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

/* An empty temporary file beside the item's final path; its fd, or -1. */
static int item_create(rc_artifacts *a, rc_artifact *it)
{
	rc_buf t;
	rc_buf_init(&t);
	rc_buf_printf(&t, "%s.tmp-XXXXXX", it->final_path);
	int fd = mkstemp(t.data);
	if (fd < 0) {
		set_error(a, "create a file beside", it->final_path, errno);
		rc_buf_fini(&t);
		return -1;
	}
	fchmod(fd, 0644);
	it->tmp_path = t.data;
	return fd;
}

static rc_artifact *item_push(rc_artifacts *a, const char *suffix)
{
	rc_artifact *it = rc_vec_push(&a->items);
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

int rc_artifacts_commit(rc_artifacts *a)
{
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (!it->fp)
			continue;
		int bad = ferror(it->fp) != 0;
		int err = errno;
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
			set_error(a, "write", it->tmp_path, err ? err : EIO);
	}
	if (a->failed) {
		rc_artifacts_abort(a);
		return -1;
	}
	for (size_t i = 0; i < a->items.len; i++) {
		rc_artifact *it = RC_VEC_AT(&a->items, rc_artifact, i);
		if (it->tmp_path && rename(it->tmp_path, it->final_path) != 0) {
			set_error(a, "rename into", it->final_path, errno);
			rc_artifacts_abort(a);
			return -1;
		}
		free(it->tmp_path);
		it->tmp_path = NULL;
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
			unlink(it->tmp_path);
			free(it->tmp_path);
			it->tmp_path = NULL;
		}
	}
}

void rc_artifacts_fini(rc_artifacts *a)
{
	rc_artifacts_abort(a);
	for (size_t i = 0; i < a->items.len; i++)
		free(RC_VEC_AT(&a->items, rc_artifact, i)->final_path);
	rc_vec_fini(&a->items);
	free(a->base);
	free(a->error);
}
