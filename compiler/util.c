/*
 * util.c - arena, arrays and string buffers (see util.h).
 */
#include "compiler/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rc_arena_block {
	rc_arena_block *next;
	size_t used;
	size_t size;
	max_align_t data[];
};

#define ARENA_BLOCK_SIZE (256u * 1024u)

void *rc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "redirc: out of memory (allocating %zu bytes)\n", n);
		abort();
	}
	return p;
}

void *rc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q) {
		fprintf(stderr, "redirc: out of memory (allocating %zu bytes)\n", n);
		abort();
	}
	return q;
}

char *rc_xstrdup(const char *s)
{
	size_t n = strlen(s);
	char *p = rc_xmalloc(n + 1);
	memcpy(p, s, n + 1);
	return p;
}

void rc_arena_init(rc_arena *a)
{
	a->head = NULL;
}

void rc_arena_fini(rc_arena *a)
{
	rc_arena_block *b = a->head;
	while (b) {
		rc_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

/* Sizes round up to 8 bytes: every allocation stays 8-aligned (nothing in
 * the compiler needs more), and short strings waste less. */
void *rc_arena_alloc_raw(rc_arena *a, size_t size)
{
	size = (size + 7u) & ~(size_t)7u;
	rc_arena_block *b = a->head;
	if (!b || b->size - b->used < size) {
		size_t bsize = size > ARENA_BLOCK_SIZE ? size : ARENA_BLOCK_SIZE;
		rc_arena_block *nb = rc_xmalloc(sizeof *nb + bsize);
		nb->used = 0;
		nb->size = bsize;
		if (b && size > ARENA_BLOCK_SIZE / 4) {
			/* a big object gets its own block behind the current one */
			nb->next = b->next;
			b->next = nb;
		} else {
			nb->next = b;
			a->head = nb;
		}
		b = nb;
	}
	void *p = (char *)b->data + b->used;
	b->used += size;
	return p;
}

void *rc_arena_alloc(rc_arena *a, size_t size)
{
	void *p = rc_arena_alloc_raw(a, size);
	memset(p, 0, size);
	return p;
}

char *rc_arena_strndup(rc_arena *a, const char *s, size_t n)
{
	char *p = rc_arena_alloc_raw(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *rc_arena_strdup(rc_arena *a, const char *s)
{
	return rc_arena_strndup(a, s, strlen(s));
}

char *rc_arena_printf(rc_arena *a, const char *fmt, ...)
{
	rc_buf b;
	rc_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	rc_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	char *p = rc_arena_strndup(a, b.data, b.len);
	rc_buf_fini(&b);
	return p;
}

void rc_vec_init(rc_vec *v, size_t item_size)
{
	v->items = NULL;
	v->len = 0;
	v->cap = 0;
	v->item_size = item_size;
}

void rc_vec_fini(rc_vec *v)
{
	free(v->items);
	v->items = NULL;
	v->len = v->cap = 0;
}

void *rc_vec_push(rc_vec *v)
{
	if (v->len == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 16;
		v->items = rc_xrealloc(v->items, v->cap * v->item_size);
	}
	void *slot = (char *)v->items + v->len * v->item_size;
	memset(slot, 0, v->item_size);
	v->len++;
	return slot;
}

void rc_buf_init(rc_buf *b)
{
	b->cap = 64;
	b->data = rc_xmalloc(b->cap);
	b->data[0] = '\0';
	b->len = 0;
}

void rc_buf_fini(rc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void rc_buf_reset(rc_buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

static void buf_reserve(rc_buf *b, size_t extra)
{
	if (b->len + extra + 1 > b->cap) {
		while (b->len + extra + 1 > b->cap)
			b->cap *= 2;
		b->data = rc_xrealloc(b->data, b->cap);
	}
}

void rc_buf_reserve(rc_buf *b, size_t extra)
{
	buf_reserve(b, extra);
}

void rc_buf_add(rc_buf *b, const char *s, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void rc_buf_add_int(rc_buf *b, long long v)
{
	char tmp[24];
	size_t i = sizeof tmp;
	/* work on the magnitude as unsigned, so LLONG_MIN is fine */
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	rc_buf_add(b, tmp + i, sizeof tmp - i);
}

void rc_buf_adds(rc_buf *b, const char *s)
{
	rc_buf_add(b, s, strlen(s));
}

void rc_buf_addc_slow(rc_buf *b, char c)
{
	rc_buf_add(b, &c, 1);
}

/* Format into the free space first: one vsnprintf when it fits, which
 * is nearly always. */
void rc_buf_vprintf(rc_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = b->cap - b->len;
	int n = vsnprintf(b->data + b->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->data[b->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	}
	b->len += (size_t)n;
}

void rc_buf_printf(rc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rc_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* Eight bytes per multiply, then a final mix so that both the low bits
 * (slots) and the high bits (tags in analysis_index.c) are well spread. */
uint64_t rc_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0x9E3779B97F4A7C15ull ^ seed ^ ((uint64_t)n * 0xff51afd7ed558ccdull);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
		s += 8;
		n -= 8;
	}
	uint64_t w = 0;
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)s[i] << (8 * i);
	h = (h ^ w) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return h;
}

int rc_utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	if (c < 0x80)
		return 1;
	int len;
	unsigned min;
	unsigned cp;
	if ((c & 0xE0) == 0xC0) {
		len = 2; min = 0x80; cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3; min = 0x800; cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return -1;
	}
	if ((size_t)len > n)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return -1;
	return len;
}

/* Optimal string alignment distance, capped: returns at most cap + 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > 64 || m > 64)
		return cap + 1;
	size_t d[65][65];
	for (size_t i = 0; i <= n; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m] > cap ? cap + 1 : d[n][m];
}

const char *rc_suggest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word);
	size_t cap = len / 3 > 1 ? len / 3 : 1;
	const char *best = NULL;
	size_t best_d = cap + 1;
	for (size_t i = 0; candidates[i]; i++) {
		size_t dist = edit_distance(word, candidates[i], cap);
		if (dist > 0 && dist < best_d) {
			best = candidates[i];
			best_d = dist;
		}
	}
	return best;
}

void rc_strmap_init(rc_strmap *m)
{
	memset(m, 0, sizeof *m);
}

void rc_strmap_fini(rc_strmap *m)
{
	free(m->slots);
	memset(m, 0, sizeof *m);
}

static rc_strmap_slot *strmap_find(const rc_strmap *m, const char *key, size_t len, uint64_t h)
{
	size_t i = (size_t)h & (m->cap - 1);
	for (;; i = (i + 1) & (m->cap - 1)) {
		rc_strmap_slot *s = &m->slots[i];
		if (!s->value || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
			return s;
	}
}

void *rc_strmap_get(const rc_strmap *m, const char *key, size_t len)
{
	if (m->len == 0)
		return NULL;
	return strmap_find(m, key, len, rc_hash_bytes(key, len, 0))->value;
}

void *rc_strmap_add(rc_strmap *m, const char *key, size_t len, void *value)
{
	if (2 * (m->len + 1) > m->cap) { /* at most half full */
		rc_strmap old = *m;
		m->cap = old.cap ? 2 * old.cap : 16;
		m->slots = rc_xmalloc(m->cap * sizeof *m->slots);
		memset(m->slots, 0, m->cap * sizeof *m->slots);
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].value)
				*strmap_find(m, old.slots[i].key, old.slots[i].len, old.slots[i].hash) = old.slots[i];
		free(old.slots);
	}
	uint64_t h = rc_hash_bytes(key, len, 0);
	rc_strmap_slot *s = strmap_find(m, key, len, h);
	if (s->value)
		return s->value;
	s->key = key;
	s->len = len;
	s->hash = h;
	s->value = value;
	m->len++;
	return value;
}
