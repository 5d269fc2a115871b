/*
 * backends.c - the registry of targets.
 */
#include "backends/backend.h"

#include <string.h>

extern const rc_backend rc_backend_nginx;
extern const rc_backend rc_backend_apache;
extern const rc_backend rc_backend_python;
extern const rc_backend rc_backend_table;
extern const rc_backend rc_backend_haproxy;
extern const rc_backend rc_backend_cloudflare;
extern const rc_backend rc_backend_netlify;

const rc_backend *const rc_backends[] = {
	&rc_backend_nginx,
	&rc_backend_apache,
	&rc_backend_python,
	&rc_backend_table,
	&rc_backend_haproxy,
	&rc_backend_cloudflare,
	&rc_backend_netlify,
	NULL,
};

const rc_backend *rc_backend_find(const char *name)
{
	for (size_t i = 0; rc_backends[i]; i++)
		if (strcmp(rc_backends[i]->name, name) == 0)
			return rc_backends[i];
	return NULL;
}
