/*
 * logparse.h - access log lines as requests (logparse.c), for `redirc
 * coverage`.
 *
 * Formats:
 *   combined, common   the NCSA formats nginx and Apache write by default
 *                      (`%h %l %u %t "%r" %>s %b` [`"%{Referer}i" "%{User-agent}i"`]);
 *                      both are read by one parser, the fields after %b are
 *                      ignored.  An absolute-form request target
 *                      (`GET http://host/p HTTP/1.1`) gives the host.
 *   json               one JSON object per line; which member holds what is
 *                      set by a field map (rc_log_fields): path (the request
 *                      target, query included, as nginx's $request_uri),
 *                      request (the request line, used when path is absent),
 *                      status, time (ISO 8601 or seconds since the epoch),
 *                      host, location (the Location header sent).
 *
 * Nothing is allocated per line: an entry's strings point into the line (or
 * into the parser's scratch buffer for JSON strings with escapes) and are
 * valid until the next call.
 */
#ifndef RC_LOGPARSE_H
#define RC_LOGPARSE_H

#include <stddef.h>
#include <stdint.h>

enum rc_log_format {
	RC_LOG_CLF = 1,  /* combined and common */
	RC_LOG_JSON = 2,
};

enum rc_log_field {
	RC_FIELD_PATH = 0,
	RC_FIELD_REQUEST,
	RC_FIELD_STATUS,
	RC_FIELD_TIME,
	RC_FIELD_HOST,
	RC_FIELD_LOCATION,
	RC_FIELD_COUNT
};

/* JSON member names per field; NULL = not logged. */
typedef struct rc_log_fields {
	const char *name[RC_FIELD_COUNT];
} rc_log_fields;

/* The defaults: path=request_uri, request=request, status=status,
 * time=time_iso8601, host=host, location=sent_http_location. */
void rc_log_fields_default(rc_log_fields *f);
/* Apply "FIELD=MEMBER" (e.g. "path=uri"); 0, or -1 for an unknown field. */
int rc_log_fields_set(rc_log_fields *f, const char *spec);
const char *rc_log_field_name(enum rc_log_field k);

typedef struct rc_log_entry {
	const char *path;      /* raw request path, without the query */
	size_t path_len;
	const char *query;     /* raw query or NULL */
	size_t query_len;
	const char *host;      /* as logged (not canonical) or NULL */
	size_t host_len;
	const char *location;  /* JSON only, NULL when not logged */
	size_t location_len;
	int status;
	int64_t time;          /* seconds since the epoch, INT64_MIN = unknown */
} rc_log_entry;

typedef struct rc_log_parser {
	enum rc_log_format format;
	rc_log_fields fields;
	char *scratch;         /* unescaped JSON strings */
	size_t scratch_cap;
} rc_log_parser;

void rc_log_parser_init(rc_log_parser *p, enum rc_log_format format, const rc_log_fields *f);
void rc_log_parser_fini(rc_log_parser *p);

/* Parse one line (without its newline).  0, or -1 when the line is not a
 * request in the format (*why says what was expected). */
int rc_log_parse(rc_log_parser *p, const char *line, size_t len, rc_log_entry *e,
                 const char **why);

/* "10/Oct/2000:13:55:36 -0700" or ISO 8601 "2000-10-10T13:55:36+00:00" (or
 * "...Z", fractions ignored) -> seconds since the epoch, or INT64_MIN. */
int64_t rc_log_time_clf(const char *s, size_t n);
int64_t rc_log_time_iso(const char *s, size_t n);

#endif /* RC_LOGPARSE_H */
