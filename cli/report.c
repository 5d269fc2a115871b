/*
 * report.c - the compile report (report.h).
 *
 * {
 *   "redirc_version": "0.1.0",
 *   "command_line": ["redirc", "compile", ...],
 *   "inputs": [{"path", "sha256", "size"}],        top file first, then includes
 *   "rules": N, "expectations": N,
 *   "diagnostics": {"errors": N, "warnings": N, "by_name": {"NAME": N}},
 *   "artifacts": [{"path", "size", "sha256"}],     in the order written
 *   "started": "YYYY-MM-DDThh:mm:ssZ", "finished": "...", "seconds": 0.123
 * }
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/report.h"
#include "compiler/jsonw.h"
#include "compiler/sha256.h"

/* SOURCE_DATE_EPOCH when it is set and valid (reproducible builds), else -1. */
static long long source_date_epoch(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (!s || !*s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (*end || errno || v < 0)
		return -1;
	return v;
}

void rc_report_start(struct timespec *start)
{
	clock_gettime(CLOCK_REALTIME, start);
}

static void put_time(FILE *f, time_t t)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	char text[32];
	strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
	rc_json_str(f, text);
}

/* Count the kept records by name, names in first-seen order. */
static void put_diag_names(FILE *f, const rc_diags *d)
{
	size_t n = d->records.len;
	const char **names = rc_xmalloc((n + 1) * sizeof *names);
	size_t *counts = rc_xmalloc((n + 1) * sizeof *counts);
	size_t distinct = 0;
	for (size_t i = 0; i < n; i++) {
		const rc_diag *r = RC_VEC_AT(&d->records, rc_diag, i);
		size_t j = 0;
		while (j < distinct && strcmp(names[j], r->name) != 0)
			j++;
		if (j == distinct) {
			names[distinct] = r->name;
			counts[distinct++] = 0;
		}
		counts[j]++;
	}
	/* sorted by name, so the same diagnostics always read the same */
	for (size_t i = 1; i < distinct; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *tn = names[j];
			names[j] = names[j - 1];
			names[j - 1] = tn;
			size_t tc = counts[j];
			counts[j] = counts[j - 1];
			counts[j - 1] = tc;
		}
	fputc('{', f);
	for (size_t i = 0; i < distinct; i++) {
		fputs(i ? ", " : "", f);
		rc_json_str(f, names[i]);
		fprintf(f, ": %zu", counts[i]);
	}
	fputc('}', f);
	free(names);
	free(counts);
}

static void put_inputs(FILE *f, const rc_diags *d)
{
	fputs("  \"inputs\": [", f);
	for (size_t i = 0; i < d->files.len; i++) {
		const rc_file *file = RC_VEC_AT(&d->files, rc_file, i);
		rc_sha256 s;
		char hex[65];
		rc_sha256_init(&s);
		rc_sha256_update(&s, file->text, file->len);
		rc_sha256_hex(&s, hex);
		fputs(i ? ",\n    " : "\n    ", f);
		fputs("{\"path\": ", f);
		rc_json_str(f, file->path);
		fprintf(f, ", \"size\": %zu, \"sha256\": \"%s\"}", file->len, hex);
	}
	fputs(d->files.len ? "\n  ],\n" : "],\n", f);
}

/* The artifacts as they are on disk now; -1 when one cannot be read. */
static int put_artifacts(FILE *f, const rc_artifacts *out)
{
	fputs("  \"artifacts\": [", f);
	for (size_t i = 0; i < out->items.len; i++) {
		const rc_artifact *a = RC_VEC_AT(&out->items, rc_artifact, i);
		char hex[65];
		uint64_t size;
		if (rc_sha256_file(a->final_path, hex, &size) != 0) {
			fprintf(stderr, "redirc: error: cannot read the artifact '%s' for the report: %s "
			                "(a retry may help)\n", a->final_path, strerror(errno));
			return -1;
		}
		fputs(i ? ",\n    " : "\n    ", f);
		fputs("{\"path\": ", f);
		rc_json_str(f, a->final_path);
		fprintf(f, ", \"size\": %llu, \"sha256\": \"%s\"}", (unsigned long long)size, hex);
	}
	fputs(out->items.len ? "\n  ],\n" : "],\n", f);
	return 0;
}

int rc_report_write(const char *path, const rc_ir *ir, const rc_artifacts *out,
                    int argc, char **argv, const struct timespec *start)
{
	size_t plen = strlen(path);
	char *tmp = rc_xmalloc(plen + 16);
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, ".tmp-XXXXXX", 12);
	int fd = mkstemp(tmp);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "redirc: error: cannot create a file beside the report '%s': %s "
		                "(a retry will not help until the path is fixed)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	fchmod(fd, 0644);
	const rc_diags *d = ir->diags;
	fputs("{\n  \"redirc_version\": ", f);
	rc_json_str(f, PACKAGE_VERSION);
	/* argv is the command's: "compile" and what follows */
	fputs(",\n  \"command_line\": [\"redirc\"", f);
	for (int i = 0; i < argc; i++) {
		fputs(", ", f);
		rc_json_str(f, argv[i]);
	}
	fputs("],\n", f);
	put_inputs(f, d);
	fprintf(f, "  \"rules\": %zu,\n  \"expectations\": %zu,\n", ir->rules.len, ir->expects.len);
	fprintf(f, "  \"diagnostics\": {\"errors\": %zu, \"warnings\": %zu, \"by_name\": ",
	        d->errors, d->warnings);
	put_diag_names(f, d);
	fputs("},\n", f);
	int failed = put_artifacts(f, out);
	long long epoch = source_date_epoch();
	struct timespec end;
	clock_gettime(CLOCK_REALTIME, &end);
	double seconds = (double)(end.tv_sec - start->tv_sec) + (end.tv_nsec - start->tv_nsec) / 1e9;
	fputs("  \"started\": ", f);
	put_time(f, epoch >= 0 ? (time_t)epoch : start->tv_sec);
	fputs(",\n  \"finished\": ", f);
	put_time(f, epoch >= 0 ? (time_t)epoch : end.tv_sec);
	fprintf(f, ",\n  \"seconds\": %.3f\n}\n", epoch >= 0 ? 0.0 : seconds);
	if (fflush(f) != 0 || fsync(fd) != 0 || ferror(f))
		failed = failed ? failed : -2;
	if (fclose(f) != 0 && !failed)
		failed = -2;
	if (!failed && rename(tmp, path) != 0)
		failed = -2;
	if (failed == -2)
		fprintf(stderr, "redirc: error: cannot write the report '%s': %s (%s)\n", path,
		        strerror(errno), errno == ENOSPC ? "a retry may help once there is space"
		                                         : "a retry will not help until the path is fixed");
	if (failed)
		unlink(tmp);
	free(tmp);
	return failed ? -1 : 0;
}
