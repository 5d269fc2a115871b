/*
 * lookup_cmd.c - `redirc lookup TABLE URL...`: the explain line format,
 * answered by the table reader.  Not yet written: issue 5 replaces this.
 */
#include <stdio.h>

int rc_cmd_lookup(const char *table, const char *const *urls, int nurls, const char *host);

int rc_cmd_lookup(const char *table, const char *const *urls, int nurls, const char *host)
{
	(void)table;
	(void)urls;
	(void)nurls;
	(void)host;
	fputs("redirc: error: 'lookup' is not yet available in this version (a retry will not help)\n",
	      stderr);
	return 2;
}
