/*
 * import.c - `redirc import --from FORMAT FILE... [-o OUT.redir]`.
 *
 * Reads every FILE with the format's reader (import/), resolves the rules
 * in the platform's order, prints the diagnostics (`not-importable` errors,
 * `shadowed` warnings for rules the platform never reaches), and writes the
 * .redir text to standard output or atomically to OUT.
 *
 * Exit status: 0 every rule was imported (rules never reached are left out
 * as comments, with a warning); 1 some rule is not importable: nothing is
 * written, unless --keep-going, which writes the rest (the refused rules as
 * comments with their reason) and still exits 1; 2 usage or I/O failure.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "cli/cli.h"
#include "compiler/diag.h"
#include "import/import.h"


static void import_usage(FILE *out)
{
	fputs("usage: redirc import --from FORMAT FILE... [-o OUT.redir] [options]\n"
	      "\n"
	      "FORMAT: netlify (_redirects or netlify.toml), cloudflare-pages, tsv, csv,\n"
	      "        nginx, apache\n"
	      "  -o OUT                write OUT atomically (default: standard output)\n"
	      "  --keep-going          write the importable rules even when some are not\n"
	      "                        (the exit status is still 1)\n"
	      "  --case sensitive|insensitive\n"
	      "                        tsv and csv: how the list's paths compare\n"
	      "                        (default: tsv insensitive, as MDN; csv sensitive)\n"
	      "  --diagnostics-format=text|json\n"
	      "  --help\n"
	      "\n"
	      "exit status: 0 every rule imported, 1 some rule not importable,\n"
	      "2 usage or I/O failure\n",
	      out);
}

static int import_usage_error(const char *fmt, const char *arg)
{
	fputs("redirc: error: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (run 'redirc import --help'; a retry will not help)\n", stderr);
	return EXIT_USAGE;
}

/* The whole file (NUL-terminated, malloc'ed) or NULL with errno. */
static char *read_all(const char *path, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = rc_xmalloc(cap);
	for (;;) {
		if (cap - n < 2) {
			cap *= 2;
			buf = rc_xrealloc(buf, cap);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (got == 0)
			break;
	}
	int err = ferror(f) ? (errno ? errno : EIO) : 0;
	if (f != stdin)
		fclose(f);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int cli_import(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "keep-going", no_argument, NULL, 'k' },
		{ "case", required_argument, NULL, 'c' },
		{ "diagnostics-format", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *out_path = NULL, *case_opt = NULL;
	int keep_going = 0, json = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			from = optarg;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'k':
			keep_going = 1;
			break;
		case 'c':
			case_opt = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") == 0)
				json = 0;
			else
				return import_usage_error("invalid --diagnostics-format '%s', expected text or json", optarg);
			break;
		case 'h':
			import_usage(stdout);
			return 0;
		case ':':
			return import_usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return import_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (!from)
		return import_usage_error("%s", "--from FORMAT is required (netlify, cloudflare-pages, tsv, csv, nginx or apache)");
	int fmt = imp_format_from_name(from);
	if (fmt < 0)
		return import_usage_error("unknown format '%s', expected netlify, cloudflare-pages, tsv, csv, nginx or apache", from);
	if (optind >= argc)
		return import_usage_error("%s", "no FILE to import");
	if (case_opt && fmt != IMP_TSV && fmt != IMP_CSV)
		return import_usage_error("--case applies to tsv and csv only (the format '%s' fixes it)", from);
	if (case_opt && strcmp(case_opt, "sensitive") != 0 && strcmp(case_opt, "insensitive") != 0)
		return import_usage_error("invalid --case '%s', expected sensitive or insensitive", case_opt);

	rc_diags diags;
	rc_diags_init(&diags);
	imp_doc doc;
	imp_doc_init(&doc, (enum imp_format)fmt, &diags);
	if (case_opt)
		doc.sem.case_insensitive = strcmp(case_opt, "insensitive") == 0;
	rc_buf cmd;
	rc_buf_init(&cmd);
	rc_buf_printf(&cmd, "imported by: redirc import --from %s", from);
	if (case_opt)
		rc_buf_printf(&cmd, " --case %s", case_opt);
	int status = 0;
	for (int i = optind; i < argc; i++) {
		size_t len = 0;
		char *text = read_all(argv[i], &len);
		if (!text) {
			fprintf(stderr, "redirc: error: cannot read '%s': %s (%s)\n", argv[i], strerror(errno),
			        errno == ENOENT || errno == EACCES || errno == EISDIR
			            ? "a retry will not help until the path is fixed" : "a retry may help");
			status = EXIT_USAGE;
			break;
		}
		int32_t file = rc_diags_add_file(&diags, argv[i], text, len, -1, RC_NOLOC);
		const rc_file *rf = rc_diags_file(&diags, file);
		imp_read(&doc, file, rf->path, rf->text, rf->len);
		rc_buf_printf(&cmd, " %s", argv[i]);
	}
	if (status == 0) {
		imp_resolve(&doc);
		if (json)
			rc_diags_print_json(&diags, stderr);
		else
			rc_diags_print_text(&diags, stderr, 0);
		if (doc.refused)
			status = EXIT_INPUT;
		if (status == 0 || keep_going) {
			rc_buf text;
			rc_buf_init(&text);
			imp_write(&doc, &text, cmd.data);
			if (out_path) {
				rc_artifacts art;
				rc_artifacts_init(&art, out_path);
				FILE *f = rc_artifacts_open(&art, "");
				if (f && fwrite(text.data, 1, text.len, f) == text.len && rc_artifacts_commit(&art) == 0) {
					/* written */
				} else {
					rc_artifacts_abort(&art);
					fprintf(stderr, "redirc: error: %s\n", art.error ? art.error : "cannot write the output");
					status = EXIT_USAGE;
				}
				rc_artifacts_fini(&art);
			} else if (fwrite(text.data, 1, text.len, stdout) != text.len || fflush(stdout) != 0) {
				fprintf(stderr, "redirc: error: cannot write to standard output: %s (a retry may help)\n",
				        strerror(errno));
				status = EXIT_USAGE;
			}
			rc_buf_fini(&text);
		}
		if (!json)
			fprintf(stderr, "redirc: import: %zu rules imported, %zu not importable, %zu never reached%s\n",
		        doc.imported, doc.refused, doc.dead,
		        doc.refused && !keep_going ? "; nothing written (--keep-going writes the rest)" : "");
	}
	rc_buf_fini(&cmd);
	imp_doc_fini(&doc);
	rc_diags_fini(&diags);
	return status;
}
