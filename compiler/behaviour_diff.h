/*
 * behaviour_diff.h - what changes for which requests between two checked
 * rule sets (behaviour_diff.c), for `redirc diff OLD NEW`.
 *
 * Rules are matched up by their normalized source and host scope (a moved
 * line with the same meaning is no change; placeholder names do not
 * matter, only which capture goes where).  Behaviour is then decided on
 * concrete requests, answered by both rule sets with the matcher of
 * check/explain (through the rule index): every rule of either file gives
 * its sample requests (requests.h), for each host of its scope; each
 * request is answered by OLD and by NEW, and its redirects are followed
 * into served hosts (up to RC_BDIFF_MAX_HOPS) so that a new chain or a
 * loop shows as a change even where the first answer is the same.
 *
 * Ownership: an rc_bdiff owns its arena (requests, answers, texts); it
 * borrows both IRs, which must outlive it.
 */
#ifndef RC_BEHAVIOUR_DIFF_H
#define RC_BEHAVIOUR_DIFF_H

#include "compiler/ir.h"

#define RC_BDIFF_MAX_HOPS 16

/* Why a request's answer changed. */
enum rc_bdiff_kind {
	RC_BD_CHANGED = 0,     /* the same rule answers, its target/status changed */
	RC_BD_ADDED = 1,       /* a rule new in NEW answers where OLD passed */
	RC_BD_REMOVED = 2,     /* OLD's rule is gone */
	RC_BD_INTERCEPTED = 3, /* another rule answers first in NEW */
	RC_BD_CHAIN = 4,       /* first answer the same, later hops differ */
	RC_BD_LOOP = 5,        /* NEW sends the request round in a loop */
	RC_BD_NKINDS = 6
};

const char *rc_bdiff_kind_name(enum rc_bdiff_kind k);

/* One request as one rule set answers it, hops followed. */
typedef struct rc_trace {
	int status;           /* 0 = pass */
	const char *location; /* NULL for pass and 410 */
	int64_t rule;         /* rule index, -1 = none */
	uint32_t hops;        /* redirects followed after the first (0 = none) */
	int loop;             /* a URL came back */
	const char **hop_locations; /* hops entries: the Location of each later hop */
	int *hop_status;
} rc_trace;

typedef struct rc_bdiff_request {
	const char *host;     /* canonical, NULL = no Host */
	const char *path;     /* raw request path */
	enum rc_bdiff_kind kind;
	rc_trace before, after;
} rc_bdiff_request;

/* A rule pair: old_rule or new_rule is -1 for an added or removed rule. */
typedef struct rc_bdiff_rule {
	int64_t old_rule, new_rule;
	int64_t witness;      /* index into requests, -1 = no request changes */
	int scope_changed;    /* changed: only/also the host scope differs */
} rc_bdiff_rule;

/* A diagnostic present on one side only. */
typedef struct rc_bdiff_diag {
	int side;             /* 0 = only in OLD (resolved), 1 = only in NEW (introduced) */
	const rc_diag *diag;
} rc_bdiff_diag;

typedef struct rc_bdiff {
	rc_arena arena;
	const rc_ir *old_ir, *new_ir;
	rc_vec added, removed, changed;  /* rc_bdiff_rule */
	size_t same, moved;              /* rules with the same meaning; of them, at another line */
	rc_vec requests;                 /* rc_bdiff_request, grouped by kind in order found */
	size_t per_kind[RC_BD_NKINDS];
	size_t requests_tried;
	int full_compare;                /* every request traced in both files
	                                  * (policies differ, or many changed patterns) */
	rc_vec diags;                    /* rc_bdiff_diag */
} rc_bdiff;

/* Compare two loaded and checked rule sets. */
void rc_bdiff_run(rc_bdiff *d, const rc_ir *old_ir, const rc_ir *new_ir);
void rc_bdiff_fini(rc_bdiff *d);

/* Does behaviour differ: some request is answered differently? */
static inline int rc_bdiff_differs(const rc_bdiff *d)
{
	return d->requests.len > 0;
}

/* "FILE:LINE" of a rule of either side (arena string). */
const char *rc_bdiff_rule_place(rc_bdiff *d, int side, int64_t rule);

#endif /* RC_BEHAVIOUR_DIFF_H */
