/*
 * util.h - the arena that owns one compilation, growable arrays and a
 * string buffer.
 *
 * Ownership: everything allocated from an rc_arena lives until
 * rc_arena_free(); rc_vec and rc_buf own their heap memory until their
 * _fini.  Allocation failure aborts with a message: a compiler that cannot
 * get memory has no useful way on.
 */
#ifndef RC_UTIL_H
#define RC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

typedef struct rc_arena_block rc_arena_block;
typedef struct rc_arena {
	rc_arena_block *head;
} rc_arena;

void rc_arena_init(rc_arena *a);
void rc_arena_fini(rc_arena *a);
void *rc_arena_alloc(rc_arena *a, size_t size);       /* zeroed, 8-aligned */
void *rc_arena_alloc_raw(rc_arena *a, size_t size);   /* not zeroed, 8-aligned */
char *rc_arena_strndup(rc_arena *a, const char *s, size_t n);
char *rc_arena_strdup(rc_arena *a, const char *s);
char *rc_arena_printf(rc_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *rc_xmalloc(size_t n);
void *rc_xrealloc(void *p, size_t n);
char *rc_xstrdup(const char *s);

/* A growable array of fixed-size items. */
typedef struct rc_vec {
	void *items;
	size_t len;
	size_t cap;
	size_t item_size;
} rc_vec;

void rc_vec_init(rc_vec *v, size_t item_size);
void rc_vec_fini(rc_vec *v);
void *rc_vec_push(rc_vec *v); /* returns the new zeroed slot */
#define RC_VEC_AT(v, type, i) (&((type *)(v)->items)[i])

/* A growable byte string, always NUL-terminated. */
typedef struct rc_buf {
	char *data;
	size_t len;
	size_t cap;
} rc_buf;

void rc_buf_init(rc_buf *b);
void rc_buf_fini(rc_buf *b);
void rc_buf_reset(rc_buf *b);
/* Make room for `extra` more bytes (and the NUL) after len. */
void rc_buf_reserve(rc_buf *b, size_t extra);
void rc_buf_add(rc_buf *b, const char *s, size_t n);
void rc_buf_adds(rc_buf *b, const char *s);
void rc_buf_addc_slow(rc_buf *b, char c);
/* The decimal form of v, as printf "%lld" writes it, without printf. */
void rc_buf_add_int(rc_buf *b, long long v);
void rc_buf_printf(rc_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void rc_buf_vprintf(rc_buf *b, const char *fmt, va_list ap);

/* One byte: inline, since backends write most output a byte at a time. */
static inline void rc_buf_addc(rc_buf *b, char c)
{
	if (b->len + 2 <= b->cap) {
		b->data[b->len++] = c;
		b->data[b->len] = '\0';
	} else {
		rc_buf_addc_slow(b, c);
	}
}
/* Length of the valid UTF-8 sequence at p (n bytes available), or -1. */
int rc_utf8_seq_len(const unsigned char *p, size_t n);

/* A 64-bit hash for hash tables (8 bytes per step; not stable across
 * versions: nothing written out may depend on it). */
uint64_t rc_hash_bytes(const void *p, size_t n, uint64_t seed);

/* A map from byte strings to pointers (open addressing).  Keys are
 * borrowed: they must outlive the map.  Values are never NULL. */
typedef struct rc_strmap_slot {
	const char *key;
	size_t len;
	uint64_t hash;
	void *value;
} rc_strmap_slot;

typedef struct rc_strmap {
	rc_strmap_slot *slots;
	size_t cap;   /* a power of two, or 0 */
	size_t len;
} rc_strmap;

void rc_strmap_init(rc_strmap *m);
void rc_strmap_fini(rc_strmap *m);
/* The value of key, or NULL. */
void *rc_strmap_get(const rc_strmap *m, const char *key, size_t len);
/* Insert key -> value unless key is there; returns the value now stored. */
void *rc_strmap_add(rc_strmap *m, const char *key, size_t len, void *value);

/* "Did you mean": the candidate (NULL-terminated list) closest to `word`
 * by edit distance (insert, delete, substitute, swap two neighbours), if it
 * is close enough to be a likely typo (at most a third of the word's
 * length, at least 1); NULL otherwise. */
const char *rc_suggest(const char *word, const char *const *candidates);

/* qsort that accepts an empty or NULL array (qsort's pointer must never
 * be NULL, even for zero items): the one sort of the compiler, backends,
 * importers and command line. */
static inline void rc_sort(void *base, size_t n, size_t size,
                           int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

#endif /* RC_UTIL_H */
