/*
 * table.c - the .redirdb reader: map a table, check its header, answer
 * requests with the matcher of match.h.
 *
 * Layout: runtime/table_format.h and doc/redirdb-format.md.  Opening checks
 * the header and every section's bounds (O(1)); every offset read while
 * answering is checked against its section, and every cmph hit is compared
 * with the stored key, so a corrupt or foreign file can give a wrong answer
 * at worst, never a read outside the mapping.
 */
#include "runtime/redir.h"
#include "runtime/match.h"
#include "runtime/table_format.h"

#include <cmph.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct rd_table {
	const unsigned char *base;
	size_t size;
	const rdb_header *h;
	const unsigned char *sec[RDB_NSECTIONS];
	size_t secsize[RDB_NSECTIONS];
	char *path;
};

const char *rd_strerror(int code)
{
	switch (code) {
	case RD_OK: return "success";
	case RD_E_IO: return "cannot read the file";
	case RD_E_TRUNCATED: return "the file is truncated";
	case RD_E_MAGIC: return "not a redirdb file (bad magic)";
	case RD_E_VERSION: return "unsupported redirdb format version";
	case RD_E_ENDIAN: return "the file was written with the other byte order";
	case RD_E_CORRUPT: return "the file is corrupt";
	case RD_E_CHECKSUM: return "checksum mismatch: the file is corrupt";
	case RD_E_NOMEM: return "out of memory";
	case RD_E_BUFFER: return "the buffer is too small";
	case RD_E_INVAL: return "invalid argument";
	default: return "unknown error";
	}
}

static int fail(rd_error *err, int code, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(rd_error *err, int code, const char *path, const char *fmt, ...)
{
	if (err) {
		err->code = code;
		int n = snprintf(err->message, sizeof err->message, "%s: %s", path ? path : "(table)",
		                 rd_strerror(code));
		if (fmt && n >= 0 && (size_t)n < sizeof err->message) {
			size_t used = (size_t)n;
			n = snprintf(err->message + used, sizeof err->message - used, " (");
			if (n > 0 && (size_t)n < sizeof err->message - used) {
				used += (size_t)n;
				va_list ap;
				va_start(ap, fmt);
				n = vsnprintf(err->message + used, sizeof err->message - used, fmt, ap);
				va_end(ap);
				if (n > 0 && (size_t)n < sizeof err->message - used) {
					used += (size_t)n;
					snprintf(err->message + used, sizeof err->message - used, ")");
				}
			}
		}
	}
	return code;
}

static uint32_t rd32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* Is the packed cmph BDZ function self-consistent, so that
 * cmph_search_packed stays inside `size` bytes for any key?  Layout of
 * cmph 2.0's bdz_pack after cmph_pack's algorithm word: hash type, jenkins
 * seed, r, ranktablesize, ranktable[ranktablesize], b (1 byte),
 * g[ceil(3r/4)]; the search reads g[v / 4] and ranktable[v >> b] for
 * vertices v < 3r. */
static int bdz_is_sane(const unsigned char *p, size_t size, uint32_t nkeys)
{
	if (size < 21)
		return 0;
	if (rd32(p) != (uint32_t)CMPH_BDZ || rd32(p + 4) != (uint32_t)CMPH_HASH_JENKINS)
		return 0;
	uint64_t r = rd32(p + 12);
	uint64_t rts = rd32(p + 16);
	if (r == 0 || r > 0x3FFFFFFFu || (uint64_t)nkeys > 3 * r)
		return 0;
	uint64_t need = 20 + 4 * rts + 1 + (3 * r + 3) / 4;
	if (need != size)
		return 0;
	uint32_t b = p[20 + 4 * rts];
	if (b > 30 || ((3 * r - 1) >> b) >= rts)
		return 0;
	return 1;
}

int rd_table_open(const char *path, rd_table **out, rd_error *err)
{
	*out = NULL;
	if (err) {
		err->code = RD_OK;
		err->message[0] = '\0';
	}
	/* O_NONBLOCK: opening a FIFO must not wait for a writer (it is then
	 * refused as not a regular file) */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return fail(err, RD_E_IO, path, "%s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return fail(err, RD_E_IO, path, "%s", strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(err, RD_E_IO, path, "not a regular file");
	}
	size_t size = (size_t)st.st_size;
	if (size == 0) {
		close(fd);
		return fail(err, RD_E_TRUNCATED, path, "empty file");
	}
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED)
		return fail(err, RD_E_IO, path, "mmap: %s", strerror(e));
	const unsigned char *b = map;
	int code = RD_OK;
	const rdb_header *h = map;
	const char *why = NULL;
	char whybuf[96];

	size_t cmp = size < RDB_MAGIC_LEN ? size : RDB_MAGIC_LEN;
	if (memcmp(b, RDB_MAGIC, cmp) != 0) {
		code = RD_E_MAGIC;
	} else if (size < 16) {
		code = RD_E_TRUNCATED;
		why = "shorter than the header";
	} else if (h->bom != RDB_BOM) {
		code = h->bom == RDB_BOM_SWAPPED ? RD_E_ENDIAN : RD_E_CORRUPT;
		why = h->bom == RDB_BOM_SWAPPED ? NULL : "bad byte-order mark";
	} else if (h->version != RDB_VERSION) {
		code = RD_E_VERSION;
		snprintf(whybuf, sizeof whybuf, "version %u, this library reads version %u",
		         (unsigned)h->version, RDB_VERSION);
		why = whybuf;
	} else if (size < RDB_HEADER_SIZE) {
		code = RD_E_TRUNCATED;
		why = "shorter than the header";
	} else if (h->header_size != RDB_HEADER_SIZE || h->reserved0 != 0 ||
	           memcmp(h->reserved, (const uint8_t[24]){ 0 }, sizeof h->reserved) != 0 ||
	           rdb_fnv64(RDB_FNV_OFFSET, b, offsetof(rdb_header, header_checksum)) !=
	               h->header_checksum) {
		code = RD_E_CORRUPT;
		why = "header checksum mismatch";
	} else if (h->file_size > size) {
		code = RD_E_TRUNCATED;
		snprintf(whybuf, sizeof whybuf, "%zu bytes, the header says %llu", size,
		         (unsigned long long)h->file_size);
		why = whybuf;
	} else if (h->file_size < size) {
		code = RD_E_CORRUPT;
		why = "bytes after the end the header gives";
	}
	rd_table *t = NULL;
	if (code == RD_OK) {
		t = calloc(1, sizeof *t);
		if (!t)
			code = RD_E_NOMEM;
	}
	if (code == RD_OK) {
		t->base = b;
		t->size = size;
		t->h = h;
		for (int i = 0; i < RDB_NSECTIONS && code == RD_OK; i++) {
			uint64_t off = h->sec[i].off, sz = h->sec[i].size;
			if (off % 4 != 0 || off < RDB_HEADER_SIZE || off > size || sz > size - off) {
				code = RD_E_CORRUPT;
				snprintf(whybuf, sizeof whybuf, "section %d out of bounds", i);
				why = whybuf;
				break;
			}
			t->sec[i] = b + off;
			t->secsize[i] = (size_t)sz;
		}
	}
	if (code == RD_OK) {
		/* sizes the counts imply */
		why = NULL;
		if (t->secsize[RDB_SEC_GROUPS] != rdb_groups_size(h->nkeys))
			why = "group section size";
		else if (t->secsize[RDB_SEC_PATTERNS] != sizeof(rdb_pattern) * (size_t)h->npatterns)
			why = "pattern section size";
		else if (t->secsize[RDB_SEC_PTOKS] % sizeof(rdb_tok) || t->secsize[RDB_SEC_TTOKS] % sizeof(rdb_tok))
			why = "token section size";
		else if (h->nkeys + (uint64_t)h->npatterns > h->nrules)
			why = "rule counts";
		else if (h->policy & ~RDB_POLICY_KNOWN)
			why = "unknown policy bits";
		else if (h->hash_kind == RDB_HASH_SORTED) {
			if (t->secsize[RDB_SEC_HASH] != 0 || h->nkeys >= RDB_CMPH_THRESHOLD)
				why = "hash section";
		} else if (h->hash_kind == RDB_HASH_CMPH_BDZ) {
			if (h->nkeys < RDB_CMPH_THRESHOLD ||
			    !bdz_is_sane(t->sec[RDB_SEC_HASH], t->secsize[RDB_SEC_HASH], h->nkeys))
				why = "packed hash function";
		} else {
			why = "unknown hash kind";
		}
		if (!why && h->npatterns > 0) {
			const unsigned char *pi = t->sec[RDB_SEC_PINDEX];
			size_t ps = t->secsize[RDB_SEC_PINDEX];
			if (ps < sizeof(rdb_pindex_head)) {
				why = "pattern index size";
			} else {
				rdb_pindex_head ph;
				memcpy(&ph, pi, sizeof ph);
				if (ph.size == 0 || (ph.size & (ph.size - 1)) != 0 ||
				    (uint64_t)ph.size * sizeof(rdb_node) + sizeof ph > ps ||
				    (uint64_t)ph.root_off * 4 + (uint64_t)ph.root_count * 4 > ps ||
				    ph.depth > RDB_TRIE_DEPTH ||
				    (ph.root_edges & ~(RDB_HAS_LIT | RDB_HAS_PARAM | RDB_HAS_HOSTS |
				                       RDB_HAS_WILD_HOSTS)) != 0 ||
				    ph.reserved[0] != 0 || ph.reserved[1] != 0 || ph.reserved[2] != 0)
					why = "pattern index";
			}
		}
		if (!why && t->secsize[RDB_SEC_META] > 0) {
			rdb_meta_head mh;
			if (t->secsize[RDB_SEC_META] < sizeof mh) {
				why = "metadata size";
			} else {
				memcpy(&mh, t->sec[RDB_SEC_META], sizeof mh);
				uint64_t need = sizeof mh + 4 * (uint64_t)mh.nfiles +
				                sizeof(rdb_meta_run) * (uint64_t)mh.nruns +
				                sizeof(rdb_meta_check) * (uint64_t)mh.ncheck;
				if (mh.nrules != h->nrules || need > t->secsize[RDB_SEC_META] ||
				    mh.ncheck != (mh.nrules + (uint64_t)RDB_META_CHECK - 1) / RDB_META_CHECK ||
				    (mh.nrules > 0 && mh.nruns == 0))
					why = "metadata size";
			}
		}
		if (why)
			code = RD_E_CORRUPT;
	}
	if (code == RD_OK) {
		t->path = strdup(path);
		if (!t->path)
			code = RD_E_NOMEM;
	}
	if (code != RD_OK) {
		free(t);
		munmap(map, size);
		if (why)
			return fail(err, code, path, "%s", why);
		return fail(err, code, path, NULL);
	}
	*out = t;
	return RD_OK;
}

int rd_table_verify(const rd_table *t, rd_error *err)
{
	if (!t)
		return fail(err, RD_E_INVAL, NULL, NULL);
	uint64_t sum = rdb_fnv64(RDB_FNV_OFFSET, t->base + RDB_HEADER_SIZE, t->size - RDB_HEADER_SIZE);
	if (sum != t->h->body_checksum)
		return fail(err, RD_E_CHECKSUM, t->path, "contents do not match the header's checksum");
	if (err) {
		err->code = RD_OK;
		err->message[0] = '\0';
	}
	return RD_OK;
}

void rd_table_close(rd_table *t)
{
	if (!t)
		return;
	munmap((void *)t->base, t->size);
	free(t->path);
	free(t);
}

uint32_t rd_table_nrules(const rd_table *t)
{
	return t ? t->h->nrules : 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* A cursor over a section: every read is bounds-checked; `bad` sticks. */
typedef struct cursor {
	const unsigned char *p, *end;
	int bad;
} cursor;

static uint32_t cur_varint(cursor *c)
{
	if (c->p < c->end && *c->p < 0x80)
		return *c->p++; /* the common one-byte case */
	uint32_t v = 0;
	for (int shift = 0; shift < 35; shift += 7) {
		if (c->p >= c->end) {
			c->bad = 1;
			return 0;
		}
		unsigned char byte = *c->p++;
		v |= (uint32_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			return v;
	}
	c->bad = 1;
	return 0;
}

static const char *cur_bytes(cursor *c, uint32_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->bad = 1;
		return NULL;
	}
	const char *s = (const char *)c->p;
	c->p += n;
	return s;
}

/* A NUL-terminated string at `off` in the pool, or NULL. */
static const char *pool_cstr(const rd_table *t, uint32_t off)
{
	size_t n = t->secsize[RDB_SEC_POOL];
	if (off == RDB_NONE || off >= n)
		return NULL;
	const char *s = (const char *)t->sec[RDB_SEC_POOL] + off;
	if (!memchr(s, '\0', n - off))
		return NULL;
	return s;
}

static const char *pool_bytes(const rd_table *t, uint32_t off, uint32_t len)
{
	size_t n = t->secsize[RDB_SEC_POOL];
	if (off > n || len > n - off)
		return NULL;
	return (const char *)t->sec[RDB_SEC_POOL] + off;
}

/* The number of names of the host set at `off` into *count: 0, or -1
 * when the set does not fit its section (corrupt). */
static int hostset_count(const rd_table *t, uint32_t off, uint32_t *count)
{
	size_t n = t->secsize[RDB_SEC_HOSTS];
	if (off % 4 || off > n || n - off < 4)
		return -1;
	*count = rd32(t->sec[RDB_SEC_HOSTS] + off);
	if (*count == 0 || *count > (n - off - 4) / 4)
		return -1;
	return 0;
}

/* Does the host set at `off` admit `host`?  -1: corrupt.  The hosts are
 * handed to rd_rule_admits_host in chunks, so any number fits. */
static int hostset_admits(const rd_table *t, uint32_t off, const char *host)
{
	if (off == RDB_NO_HOSTS)
		return 1;
	if (host == NULL)
		return 0;
	uint32_t count;
	if (hostset_count(t, off, &count) != 0)
		return -1;
	const char *names[16];
	rd_rule probe;
	memset(&probe, 0, sizeof probe);
	probe.hosts = names;
	for (uint32_t i = 0; i < count;) {
		uint32_t k = 0;
		for (; k < 16 && i < count; k++, i++) {
			names[k] = pool_cstr(t, rd32(t->sec[RDB_SEC_HOSTS] + off + 4 + 4 * i));
			if (!names[k])
				return -1;
		}
		probe.nhosts = k;
		if (rd_rule_admits_host(&probe, host))
			return 1;
	}
	return 0;
}

/* The longest wildcard name "*.NAME" of the host set at `off` that admits
 * `host` (rd_host_subdomain's choice) into *name, NULL when none does.  0,
 * or -1 corrupt. */
static int hostset_longest_wild(const rd_table *t, uint32_t off, const char *host,
                                const char **name)
{
	*name = NULL;
	if (off == RDB_NO_HOSTS)
		return 0;
	uint32_t count;
	if (hostset_count(t, off, &count) != 0)
		return -1;
	size_t best = 0;
	for (uint32_t i = 0; i < count; i++) {
		const char *h = pool_cstr(t, rd32(t->sec[RDB_SEC_HOSTS] + off + 4 + 4 * i));
		if (!h)
			return -1;
		size_t hl = strlen(h);
		if (h[0] == '*' && hl > best && rd_wildcard_admits(h, host)) {
			best = hl;
			*name = h;
		}
	}
	return 0;
}

/* An exact candidate, decoded. */
typedef struct exact_cand {
	uint32_t rule;
	uint16_t status;
	uint16_t flags;
	const char *target;
	uint32_t target_len;
	const char *frag;
	uint32_t frag_len;
	int subdomain;      /* RDB_C_SUBDOMAIN: the target holds mark bytes */
	uint32_t hostset;
} exact_cand;

/* Skip the entry at the cursor (its key and every candidate). */
static void cur_skip_entry(cursor *c)
{
	uint32_t kl2 = cur_varint(c);
	cur_bytes(c, kl2 >> 1);
	uint32_t ncands = (kl2 & 1) ? cur_varint(c) : 1;
	for (uint32_t i = 0; i < ncands && !c->bad; i++) {
		(void)cur_varint(c); /* rule */
		const char *fb = cur_bytes(c, 1);
		if (!fb)
			return;
		unsigned char f = (unsigned char)*fb;
		if (f & RDB_C_HOSTS)
			(void)cur_varint(c);
		cur_bytes(c, cur_varint(c));
		if (f & RDB_C_FRAGMENT)
			cur_bytes(c, cur_varint(c));
	}
}

/* A cursor on the entry of slot `s` (< nkeys): its group's first entry,
 * then the entries before it in the group skipped.  0, or -1 corrupt. */
static int slot_entry(const rd_table *t, uint32_t s, cursor *c)
{
	size_t n = t->secsize[RDB_SEC_ENTRIES];
	uint32_t g = s >> RDB_GROUP_SHIFT;
	uint32_t off = rd32(t->sec[RDB_SEC_GROUPS] + 4 * (size_t)g);
	if (off >= n)
		return -1;
	const unsigned char *e = t->sec[RDB_SEC_ENTRIES];
	/* the lines of the group up to the entry arrive in parallel */
	uint32_t ahead = s & (RDB_GROUP - 1);
	size_t span = 64 * (size_t)(ahead + 1);
	if (span > n - off)
		span = n - off;
	for (size_t l = 0; l < span; l += 64)
		__builtin_prefetch(e + off + l);
	c->p = e + off;
	c->end = e + n;
	c->bad = 0;
	for (uint32_t i = 0; i < ahead; i++)
		cur_skip_entry(c);
	return c->bad ? -1 : 0;
}

/* Decode the candidates of the entry at the cursor if its key is `key`;
 * fill *out with the first admitted for `host`.  1 found, 0 not, -1
 * corrupt. */
static int entry_find(const rd_table *t, cursor *cp, const char *key, size_t klen,
                      const char *host, exact_cand *out)
{
	cursor c = *cp;
	uint32_t kl2 = cur_varint(&c);
	uint32_t kl = kl2 >> 1;
	const char *stored = cur_bytes(&c, kl);
	if (c.bad)
		return -1;
	if (kl != klen || memcmp(stored, key, klen) != 0)
		return 0; /* cmph maps unknown keys to some slot */
	uint32_t ncands = (kl2 & 1) ? cur_varint(&c) : 1;
	if (c.bad || ncands == 0)
		return -1;
	for (uint32_t i = 0; i < ncands; i++) {
		exact_cand ec;
		ec.rule = cur_varint(&c);
		const char *fb = cur_bytes(&c, 1);
		if (c.bad)
			return -1;
		unsigned char f = (unsigned char)*fb;
		uint32_t hostset = (f & RDB_C_HOSTS) ? cur_varint(&c) : RDB_NO_HOSTS;
		ec.target_len = cur_varint(&c);
		ec.target = cur_bytes(&c, ec.target_len);
		ec.frag_len = 0;
		ec.frag = NULL;
		if (f & RDB_C_FRAGMENT) {
			ec.frag_len = cur_varint(&c);
			ec.frag = cur_bytes(&c, ec.frag_len);
		}
		if (c.bad)
			return -1;
		ec.status = rdb_status_codes[f & RDB_C_STATUS_MASK];
		if (ec.status == 0 || ec.rule >= t->h->nrules)
			return -1;
		ec.subdomain = (f & RDB_C_SUBDOMAIN) != 0;
		ec.hostset = hostset;
		ec.flags = (uint16_t)((ec.status == 410 ? RD_RULE_GONE : 0) |
		                      ((f & RDB_C_QUERY_DROP) ? RD_RULE_QUERY_DROP : 0) |
		                      ((f & RDB_C_TARGET_QUERY) ? RD_RULE_TARGET_QUERY : 0));
		int adm = hostset_admits(t, hostset, host);
		if (adm < 0)
			return -1;
		if (adm) {
			*out = ec;
			return 1;
		}
	}
	return 0;
}

static int key_compare(const rd_table *t, uint32_t slot, const char *key, size_t klen, int *cmp)
{
	cursor c;
	if (slot_entry(t, slot, &c) != 0)
		return -1;
	uint32_t kl = cur_varint(&c) >> 1;
	const char *stored = cur_bytes(&c, kl);
	if (c.bad)
		return -1;
	size_t m = kl < klen ? kl : klen;
	int r = memcmp(stored, key, m);
	*cmp = r ? r : (kl < klen ? -1 : kl > klen ? 1 : 0);
	return 0;
}

/* The slot of `key`, or -1 (no such key), -2 (corrupt).  A slot whose
 * fingerprint differs from the key's is "no such key" without reading an
 * entry. */
static long slot_of(const rd_table *t, const char *key, size_t klen)
{
	uint32_t nkeys = t->h->nkeys;
	if (nkeys == 0)
		return -1;
	const unsigned char *fps = t->sec[RDB_SEC_GROUPS] + 4 * (size_t)rdb_ngroups(nkeys);
	if (t->h->hash_kind == RDB_HASH_CMPH_BDZ) {
		uint8_t fp = rdb_key_fp(key, klen);
		uint32_t s = cmph_search_packed((void *)t->sec[RDB_SEC_HASH], key, (cmph_uint32)klen);
		return s < nkeys && fps[s] == fp ? (long)s : -1;
	}
	uint32_t lo = 0, hi = nkeys;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int cmp;
		if (key_compare(t, mid, key, klen, &cmp) != 0)
			return -2;
		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int fold_eq(const char *a, const char *b, size_t n)
{
	return rd_bytes_equal(a, n, b, n, RD_POLICY_CASE_INSENSITIVE);
}

/* The u32 list at index `off` of PINDEX with `count` items, or NULL. */
static const unsigned char *pindex_list(const rd_table *t, uint32_t off, uint32_t count)
{
	size_t n = t->secsize[RDB_SEC_PINDEX];
	if ((uint64_t)off * 4 + (uint64_t)count * 4 > n)
		return NULL;
	return t->sec[RDB_SEC_PINDEX] + 4 * (size_t)off;
}

/* The node of edge (parent, kind, seg) in the pattern index: its id (slot
 * + 1), its own edges (RDB_HAS_*) and list, 0 when there is none, -1
 * corrupt. */
static int pindex_find(const rd_table *t, const rdb_pindex_head *ph, uint32_t parent, uint32_t kind,
                       const char *seg, size_t slen, uint32_t *id, uint32_t *edges,
                       const unsigned char **list, uint32_t *count)
{
	uint32_t mask = ph->size - 1;
	if (slen >= UINT32_MAX)
		return 0;
	uint32_t i = rdb_edge_hash(parent, kind, seg, slen) & mask;
	for (uint32_t probes = 0; probes < ph->size; probes++, i = (i + 1) & mask) {
		rdb_node nd;
		memcpy(&nd, t->sec[RDB_SEC_PINDEX] + sizeof *ph + sizeof nd * (size_t)i, sizeof nd);
		if (nd.kind == RDB_EDGE_EMPTY)
			return 0;
		if (nd.parent != parent || (nd.kind & RDB_KIND_MASK) != kind || nd.seg_len != (uint32_t)slen)
			continue;
		const char *ss = slen ? pool_bytes(t, nd.seg_off, (uint32_t)slen) : "";
		if (!ss)
			return -1;
		if (!fold_eq(ss, seg, slen))
			continue;
		*id = i + 1;
		*edges = nd.kind & (RDB_HAS_LIT | RDB_HAS_PARAM);
		*count = nd.count;
		*list = pindex_list(t, nd.list_off, nd.count);
		return *list ? 1 : -1;
	}
	return 0;
}

/* The lists of the pattern index that a request reaches (see
 * table_format.h): the roots of every host and of `host`, then for each of
 * the path's first segments, the literal and placeholder edges from the
 * nodes reached so far.  Returns the number of lists, -1 corrupt, or -2
 * when the walk reaches more nodes than it keeps (then every pattern is
 * tried). */
static int pindex_walk(const rd_table *t, const char *norm, size_t nlen, const char *host,
                       const unsigned char **list, uint32_t *cnt)
{
	rdb_pindex_head ph;
	memcpy(&ph, t->sec[RDB_SEC_PINDEX], sizeof ph);
	int nl = 0;
	/* the nodes reached at this depth, and their edges */
	uint32_t active[RDB_TRIE_MAX_ACTIVE], next[RDB_TRIE_MAX_ACTIVE];
	uint32_t aedges[RDB_TRIE_MAX_ACTIVE], nedges[RDB_TRIE_MAX_ACTIVE];
	uint32_t na = 0;
	list[nl] = pindex_list(t, ph.root_off, ph.root_count);
	if (!list[nl])
		return -1;
	cnt[nl++] = ph.root_count;
	active[na] = 0;
	aedges[na++] = ph.root_edges & (RDB_HAS_LIT | RDB_HAS_PARAM);
	if (host && host[0] && (ph.root_edges & RDB_HAS_HOSTS)) {
		uint32_t id, edges;
		int r = pindex_find(t, &ph, RDB_NODE_HOSTS, RDB_EDGE_HOST, host, strlen(host), &id,
		                    &edges, &list[nl], &cnt[nl]);
		if (r < 0)
			return -1;
		if (r > 0) {
			nl++;
			active[na] = id;
			aedges[na++] = edges;
		}
	}
	/* the roots of the wildcard names "*.NAME" that admit the host: "*"
	 * and each suffix of it that starts at a dot */
	if (host && host[0] && (ph.root_edges & RDB_HAS_WILD_HOSTS)) {
		size_t hl = strlen(host);
		char wild[258];
		if (hl + 2 > sizeof wild)
			return -2;
		for (const char *dot = strchr(host + 1, '.'); dot; dot = strchr(dot + 1, '.')) {
			size_t sl = hl - (size_t)(dot - host);
			wild[0] = '*';
			memcpy(wild + 1, dot, sl + 1);
			if (!rd_wildcard_admits(wild, host))
				continue;
			if (na == RDB_TRIE_MAX_ACTIVE || nl == (int)RDB_TRIE_MAX_LISTS)
				return -2;
			uint32_t id, edges;
			int r = pindex_find(t, &ph, RDB_NODE_HOSTS, RDB_EDGE_HOST, wild, sl + 1, &id,
			                    &edges, &list[nl], &cnt[nl]);
			if (r < 0)
				return -1;
			if (r > 0) {
				nl++;
				active[na] = id;
				aedges[na++] = edges;
			}
		}
	}
	const char *seg = norm + 1, *end = norm + nlen;
	for (uint32_t level = 0; level < ph.depth && nlen > 0; level++) {
		const char *se = memchr(seg, '/', (size_t)(end - seg));
		size_t slen = se ? (size_t)(se - seg) : (size_t)(end - seg);
		uint32_t nn = 0;
		for (uint32_t a = 0; a < na; a++) {
			for (uint32_t kind = RDB_EDGE_LIT; kind <= RDB_EDGE_PARAM; kind++) {
				if (!(aedges[a] & (kind == RDB_EDGE_LIT ? RDB_HAS_LIT : RDB_HAS_PARAM)))
					continue;
				if (kind == RDB_EDGE_PARAM && slen == 0)
					break; /* a placeholder never matches an empty segment */
				if (nn == RDB_TRIE_MAX_ACTIVE || nl == (int)RDB_TRIE_MAX_LISTS)
					return -2;
				uint32_t id, edges;
				int r = pindex_find(t, &ph, active[a], kind, kind == RDB_EDGE_LIT ? seg : "",
				                    kind == RDB_EDGE_LIT ? slen : 0, &id, &edges, &list[nl],
				                    &cnt[nl]);
				if (r < 0)
					return -1;
				if (r > 0) {
					next[nn] = id;
					nedges[nn++] = edges;
					if (cnt[nl] > 0)
						nl++;
				}
			}
		}
		if (nn == 0 || !se)
			break;
		memcpy(active, next, nn * sizeof *next);
		memcpy(aedges, nedges, nn * sizeof *nedges);
		na = nn;
		seg = se + 1;
	}
	return nl;
}

#define MAX_TOKS RDB_MAX_TOKS

/* Try pattern `pi` on the normalized path; 1 match, 0 not, -1 corrupt.
 * *bound gets bit i for each capture i the pattern binds. */
static int pattern_try(const rd_table *t, const rdb_pattern *p, const char *norm, size_t nlen,
                       const char *host, rd_span *caps, uint32_t *bound)
{
	int adm = hostset_admits(t, p->hostset, host);
	if (adm <= 0)
		return adm;
	size_t ntoks = t->secsize[RDB_SEC_PTOKS] / sizeof(rdb_tok);
	if (p->nptok == 0 || p->nptok > MAX_TOKS || p->ptok > ntoks || p->nptok > ntoks - p->ptok)
		return -1;
	rd_ptok toks[MAX_TOKS];
	for (uint32_t i = 0; i < p->nptok; i++) {
		rdb_tok tk;
		memcpy(&tk, t->sec[RDB_SEC_PTOKS] + sizeof(rdb_tok) * ((size_t)p->ptok + i), sizeof tk);
		if (tk.capture >= RD_MAX_CAPTURES)
			return -1;
		if (tk.kind == RD_PTOK_PARAM || tk.kind == RD_PTOK_SPLAT)
			*bound |= 1u << tk.capture;
		toks[i].kind = tk.kind;
		toks[i].capture = tk.capture;
		toks[i].len = tk.len;
		toks[i].text = NULL;
		if (tk.kind == RD_PTOK_LIT && !(toks[i].text = pool_bytes(t, tk.off, tk.len)))
			return -1;
	}
	return rd_pattern_match(toks, p->nptok, norm, nlen, t->h->policy, caps);
}

int rd_table_lookup(const rd_table *t, const char *host, const char *raw_path,
                    size_t path_len, const char *raw_query, size_t query_len,
                    rd_result *res, char *buf, size_t bufsize)
{
	if (!t || !res || (!raw_path && path_len) || (!buf && bufsize))
		return RD_E_INVAL;
	memset(res, 0, sizeof *res);
	const rdb_header *h = t->h;
	unsigned policy = h->policy;

	/* scratch: the normalized path and its folded copy */
	char stack_norm[4096], stack_fold[4096];
	char *norm_buf = stack_norm, *fold = stack_fold;
	const char *norm;
	size_t scratch = 0;
	if (path_len + 2 > sizeof stack_norm) {
		scratch = 2 * (path_len + 2);
		if (bufsize < scratch + 1) {
			res->needed = scratch + 1;
			return RD_E_BUFFER;
		}
		norm_buf = buf + bufsize - scratch;
		fold = norm_buf + path_len + 2;
	}
	size_t nlen;
	if (rd_path_is_normal(raw_path, path_len, policy)) {
		norm = raw_path; /* normalizing would copy it unchanged */
		nlen = path_len;
	} else if (rd_path_normalize(raw_path ? raw_path : "", path_len, policy, norm_buf, &nlen) != 0) {
		return 0; /* an invalid escape: no redirect */
	} else {
		norm = norm_buf;
	}

	char hostbuf[256];
	const char *hc = NULL;
	if (host) {
		size_t hl = strlen(host);
		if (hl < sizeof hostbuf) {
			rd_host_canon(host, hl, hostbuf);
		} else {
			hostbuf[0] = '\0'; /* too long to be a served name */
		}
		hc = hostbuf;
	}

	/* the first exact candidate admitted for the host */
	exact_cand ec = { 0 };
	int have_exact = 0;
	if (h->nkeys > 0 && nlen <= h->max_key_len) {
		const char *key = norm;
		if (policy & RD_POLICY_CASE_INSENSITIVE) {
			for (size_t i = 0; i < nlen; i++) {
				unsigned char ch = (unsigned char)norm[i];
				fold[i] = (char)rd_ascii_lower((unsigned char)ch);
			}
			key = fold;
		}
		long s = slot_of(t, key, nlen);
		if (s == -2)
			return RD_E_CORRUPT;
		if (s >= 0) {
			cursor c;
			int r = slot_entry(t, (uint32_t)s, &c);
			if (r == 0)
				r = entry_find(t, &c, key, nlen, hc, &ec);
			if (r < 0)
				return RD_E_CORRUPT;
			have_exact = r;
		}
	}
	uint32_t best = have_exact ? ec.rule : UINT32_MAX;

	/* the first pattern, in file order, before `best` */
	rd_span caps[RD_MAX_CAPTURES];
	uint32_t win_bound = 0; /* the captures the winning pattern binds */
	const rdb_pattern *win = NULL;
	rdb_pattern pbuf;
	/* patterns are in file order: when the first comes after the exact
	 * winner, none can win (the common hit skips the segment hashing) */
	if (h->npatterns > 0 && (!have_exact || rd32(t->sec[RDB_SEC_PATTERNS]) < best)) {
		/* ascending lists of the index nodes the path reaches, merged
		 * into file order (or every pattern, past the walk's limits) */
		const unsigned char *list[RDB_TRIE_MAX_LISTS];
		uint32_t cnt[RDB_TRIE_MAX_LISTS], at[RDB_TRIE_MAX_LISTS];
		int nl = pindex_walk(t, norm, nlen, hc, list, cnt);
		if (nl == -1)
			return RD_E_CORRUPT;
		uint32_t scan = 0; /* the next pattern when nl == -2 */
		for (int k = 0; k < nl; k++)
			at[k] = 0;
		memset(caps, 0, sizeof caps); /* a failed try leaves spans inside the path */
		for (;;) {
			uint32_t pi = UINT32_MAX;
			if (nl == -2) {
				if (scan == h->npatterns)
					break;
				pi = scan++;
			} else {
				for (int k = 0; k < nl; k++)
					if (at[k] < cnt[k]) {
						uint32_t v = rd32(list[k] + 4 * (size_t)at[k]);
						if (v < pi)
							pi = v;
					}
				if (pi == UINT32_MAX)
					break;
				for (int k = 0; k < nl; k++)
					if (at[k] < cnt[k] && rd32(list[k] + 4 * (size_t)at[k]) == pi)
						at[k]++;
			}
			if (pi >= h->npatterns)
				return RD_E_CORRUPT;
			memcpy(&pbuf, t->sec[RDB_SEC_PATTERNS] + sizeof pbuf * (size_t)pi, sizeof pbuf);
			if (pbuf.rule >= h->nrules)
				return RD_E_CORRUPT;
			if (pbuf.rule >= best)
				break; /* patterns are in file order: none later can win */
			win_bound = 0;
			int r = pattern_try(t, &pbuf, norm, nlen, hc, caps, &win_bound);
			if (r < 0)
				return RD_E_CORRUPT;
			if (r) {
				win = &pbuf;
				break;
			}
		}
	}
	if (!win && !have_exact)
		return 0;

	/* the winner as the matcher sees it */
	rd_rule view;
	memset(&view, 0, sizeof view);
	rd_ttok ttoks[MAX_TOKS];
	if (win) {
		size_t ntoks = t->secsize[RDB_SEC_TTOKS] / sizeof(rdb_tok);
		if (win->nttok > MAX_TOKS || win->ttok > ntoks || win->nttok > ntoks - win->ttok)
			return RD_E_CORRUPT;
		for (uint32_t i = 0; i < win->nttok; i++) {
			rdb_tok tk;
			memcpy(&tk, t->sec[RDB_SEC_TTOKS] + sizeof(rdb_tok) * ((size_t)win->ttok + i), sizeof tk);
			if (tk.capture >= RD_MAX_CAPTURES)
				return RD_E_CORRUPT;
			if (tk.kind != RD_TTOK_LIT && tk.kind != RD_TTOK_CAP_PATH &&
			    tk.kind != RD_TTOK_CAP_QUERY && tk.kind != RD_TTOK_SUBDOMAIN)
				return RD_E_CORRUPT;
			/* a target may only use what its pattern captured */
			if ((tk.kind == RD_TTOK_CAP_PATH || tk.kind == RD_TTOK_CAP_QUERY) &&
			    !(win_bound & (1u << tk.capture)))
				return RD_E_CORRUPT;
			ttoks[i].kind = tk.kind;
			ttoks[i].capture = tk.capture;
			ttoks[i].len = tk.len;
			ttoks[i].text = NULL;
			if (tk.kind == RD_TTOK_LIT && !(ttoks[i].text = pool_bytes(t, tk.off, tk.len)))
				return RD_E_CORRUPT;
		}
		view.dst = ttoks;
		view.ndst = win->nttok;
		if (win->frag_len) {
			view.fragment = pool_bytes(t, win->frag_off, win->frag_len);
			if (!view.fragment)
				return RD_E_CORRUPT;
			view.fragment_len = win->frag_len;
		}
		view.status = win->status;
		view.flags = win->flags;
		res->rule_id = win->rule;
	} else {
		memset(caps, 0, sizeof caps);
		if (ec.target_len && ec.subdomain) {
			/* literal runs, a subdomain token for each mark byte */
			uint32_t n = 0, from = 0;
			for (uint32_t i = 0; i <= ec.target_len; i++) {
				if (i < ec.target_len && ec.target[i] != RDB_SUBDOMAIN_MARK)
					continue;
				if (n + 2 > MAX_TOKS)
					return RD_E_CORRUPT;
				if (i > from) {
					ttoks[n].kind = RD_TTOK_LIT;
					ttoks[n].capture = 0;
					ttoks[n].len = i - from;
					ttoks[n++].text = ec.target + from;
				}
				if (i < ec.target_len) {
					ttoks[n].kind = RD_TTOK_SUBDOMAIN;
					ttoks[n].capture = 0;
					ttoks[n].len = 0;
					ttoks[n++].text = NULL;
				}
				from = i + 1;
			}
			view.dst = ttoks;
			view.ndst = n;
		} else if (ec.target_len) {
			ttoks[0].kind = RD_TTOK_LIT;
			ttoks[0].capture = 0;
			ttoks[0].len = ec.target_len;
			ttoks[0].text = ec.target;
			view.dst = ttoks;
			view.ndst = 1;
		}
		view.fragment = ec.frag;
		view.fragment_len = ec.frag_len;
		view.status = ec.status;
		view.flags = ec.flags;
		res->rule_id = ec.rule;
	}
	if (view.status != 301 && view.status != 302 && view.status != 303 &&
	    view.status != 307 && view.status != 308 && view.status != 410)
		return RD_E_CORRUPT;
	res->status = view.status;

	size_t cap = bufsize - scratch;
	if (view.status == 410) {
		if (cap > 0)
			buf[0] = '\0';
		return 410;
	}
	const char *q = (raw_query && query_len) ? raw_query : NULL;
	/* the subdomain is taken under the longest wildcard name of the
	 * scope that admits the host: the view carries that name alone */
	const char *wild_name = NULL;
	if (hc && view.ndst > 0) {
		int uses = 0;
		for (uint32_t i = 0; i < view.ndst; i++)
			uses |= view.dst[i].kind == RD_TTOK_SUBDOMAIN;
		if (uses && hostset_longest_wild(t, win ? win->hostset : ec.hostset, hc, &wild_name) < 0)
			return RD_E_CORRUPT;
		if (wild_name) {
			view.hosts = &wild_name;
			view.nhosts = 1;
		}
	}
	size_t need = rd_location_build_host(&view, hc, norm, caps, q, q ? query_len : 0, buf, cap);
	res->location_len = need;
	if (need + 1 > cap) {
		res->needed = need + 1 + scratch;
		return RD_E_BUFFER;
	}
	/* the literal parts come from the file, which rd_table_open does not
	 * checksum: a Location is printable ASCII, or the file is corrupt (a
	 * control byte here could split a response header) */
	for (size_t i = 0; i < need; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c <= 0x20 || c >= 0x7f) {
			buf[0] = '\0';
			res->location_len = 0;
			res->status = 0;
			return RD_E_CORRUPT;
		}
	}
	return res->status;
}

/* ---- rule metadata (the cold META section) ------------------------------ */

int rd_table_rule_info(const rd_table *t, uint32_t rule_id, rd_rule_info *info)
{
	if (!t || !info)
		return RD_E_INVAL;
	memset(info, 0, sizeof *info);
	if (rule_id >= t->h->nrules)
		return RD_E_INVAL;
	size_t ms = t->secsize[RDB_SEC_META];
	if (ms == 0)
		return RD_OK; /* a table without metadata: line 0, no file */
	const unsigned char *m = t->sec[RDB_SEC_META];
	rdb_meta_head mh; /* open checked these counts against the section size */
	memcpy(&mh, m, sizeof mh);
	const unsigned char *files = m + sizeof mh;
	const unsigned char *runs = files + 4 * (size_t)mh.nfiles;
	const unsigned char *checks = runs + sizeof(rdb_meta_run) * (size_t)mh.nruns;
	const unsigned char *deltas = checks + sizeof(rdb_meta_check) * (size_t)mh.ncheck;

	/* the last run starting at or before the rule */
	uint32_t lo = 0, hi = mh.nruns;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (rd32(runs + sizeof(rdb_meta_run) * (size_t)mid) <= rule_id)
			lo = mid;
		else
			hi = mid;
	}
	rdb_meta_run run;
	memcpy(&run, runs + sizeof run * (size_t)lo, sizeof run);
	if (run.first_rule > rule_id)
		return RD_E_CORRUPT;
	if (run.file != RDB_NONE) {
		if (run.file >= mh.nfiles ||
		    !(info->file = pool_cstr(t, rd32(files + 4 * (size_t)run.file))))
			return RD_E_CORRUPT;
	}
	if ((run.owner != RDB_NONE && !(info->owner = pool_cstr(t, run.owner))) ||
	    (run.note != RDB_NONE && !(info->note = pool_cstr(t, run.note))))
		return RD_E_CORRUPT;

	/* the line: the checkpoint, then at most RDB_META_CHECK - 1 deltas */
	rdb_meta_check ck;
	memcpy(&ck, checks + sizeof ck * (size_t)(rule_id / RDB_META_CHECK), sizeof ck);
	size_t dsize = (size_t)(m + ms - deltas);
	if (ck.off > dsize)
		return RD_E_CORRUPT;
	cursor c = { deltas + ck.off, m + ms, 0 };
	uint32_t line = ck.line;
	for (uint32_t j = 0; j < rule_id % RDB_META_CHECK; j++) {
		uint32_t v = cur_varint(&c);
		line += (v >> 1) ^ (uint32_t)-(int32_t)(v & 1);
	}
	if (c.bad)
		return RD_E_CORRUPT;
	info->line = line;
	return RD_OK;
}
