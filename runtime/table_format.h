/*
 * table_format.h - the layout of a .redirdb file, shared by the writer
 * (backends/table.c) and the reader (runtime/table_reader.c).  Not installed.
 * doc/redirdb-format.md describes the same layout in prose.
 *
 * All integers are in the writer's byte order; the byte-order mark tells a
 * reader of the other order to refuse the file.  Every section starts at a
 * 4-byte aligned offset.
 */
#ifndef RD_TABLE_FORMAT_H
#define RD_TABLE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define RDB_MAGIC "REDIRDB\0"
#define RDB_MAGIC_LEN 8
/* 4: the policy may hold RD_POLICY_SPLAT_NO_PARENT, host sets and the
 * pattern index may hold wildcard names "*.NAME", targets may hold the
 * subdomain token (a reader of version 3 would answer those silently
 * wrong, so it refuses them by the version) */
#define RDB_VERSION 4u
#define RDB_BOM 0x01020304u
#define RDB_BOM_SWAPPED 0x04030201u
#define RDB_HEADER_SIZE 256u

/* Below this many distinct exact keys the slots are sorted by key and
 * searched by bisection; from it on a packed cmph BDZ function maps keys. */
#define RDB_CMPH_THRESHOLD 64u

/* Most source or target tokens one pattern rule may have in a table (the
 * reader copies them into stack arrays of this size). */
#define RDB_MAX_TOKS 160u

enum rdb_hash_kind {
	RDB_HASH_SORTED = 0,
	RDB_HASH_CMPH_BDZ = 1,
};

enum rdb_section {
	RDB_SEC_HASH = 0,     /* packed cmph function (cmph_pack) or empty */
	RDB_SEC_GROUPS = 1,   /* u32 entry offset per group of 4 slots, u8 fingerprint per slot */
	RDB_SEC_ENTRIES = 2,  /* exact keys and their candidate rules, in slot order */
	RDB_SEC_PATTERNS = 3, /* rdb_pattern per pattern rule, file order */
	RDB_SEC_PTOKS = 4,    /* rdb_tok: source tokens of patterns */
	RDB_SEC_TTOKS = 5,    /* rdb_tok: target tokens of patterns */
	RDB_SEC_PINDEX = 6,   /* the pattern index: a trie of leading segments, per host */
	RDB_SEC_HOSTS = 7,    /* host sets */
	RDB_SEC_POOL = 8,     /* string bytes */
	RDB_SEC_META = 9,     /* cold: files, owner/note runs, lines (rd_table_rule_info) */
	RDB_NSECTIONS = 10,
};

typedef struct rdb_section_ref {
	uint64_t off;
	uint64_t size;
} rdb_section_ref;

typedef struct rdb_header {
	char magic[8];          /*   0 "REDIRDB\0" */
	uint32_t version;       /*   8 */
	uint32_t bom;           /*  12 0x01020304 */
	uint32_t header_size;   /*  16 256 */
	uint32_t policy;        /*  20 RD_POLICY_*, only the bits of RDB_POLICY_KNOWN */
	uint64_t file_size;     /*  24 */
	uint64_t body_checksum; /*  32 FNV-1a 64 of bytes [header_size, file_size) */
	uint32_t nrules;        /*  40 */
	uint32_t nkeys;         /*  44 distinct exact keys */
	uint32_t npatterns;     /*  48 */
	uint32_t hash_kind;     /*  52 rdb_hash_kind */
	uint32_t max_key_len;   /*  56 longest exact key */
	uint32_t reserved0;     /*  60 */
	rdb_section_ref sec[RDB_NSECTIONS]; /* 64 .. 224 */
	uint64_t header_checksum; /* 224 FNV-1a 64 of bytes [0, 224) */
	uint8_t reserved[24];   /* 232 .. 256, zero */
} rdb_header;

_Static_assert(sizeof(rdb_header) == RDB_HEADER_SIZE, "header is 256 bytes");

/* The policy bits a table may hold: RD_POLICY_CASE_INSENSITIVE (0x1),
 * RD_POLICY_TRAILING_STRICT (0x2), RD_POLICY_SPLAT_NO_PARENT (0x4) of
 * runtime/match.h.  Open refuses any other bit (RD_E_CORRUPT). */
#define RDB_POLICY_KNOWN 0x7u
_Static_assert(offsetof(rdb_header, header_checksum) == 224, "header layout");

/* A pattern rule (32 bytes). */
typedef struct rdb_pattern {
	uint32_t rule;      /* rule index in file order */
	uint16_t status;
	uint16_t flags;     /* RD_RULE_* */
	uint32_t hostset;   /* offset in HOSTS, RDB_NO_HOSTS = every host */
	uint32_t ptok;      /* first token in PTOKS (index) */
	uint16_t nptok;
	uint16_t nttok;
	uint32_t ttok;      /* first token in TTOKS (index) */
	uint32_t frag_off;  /* in POOL */
	uint32_t frag_len;  /* 0 = no fragment */
} rdb_pattern;

_Static_assert(sizeof(rdb_pattern) == 32, "pattern record is 32 bytes");

#define RDB_NO_HOSTS 0xFFFFFFFFu
#define RDB_NONE 0xFFFFFFFFu

/* A source or target token (12 bytes). */
typedef struct rdb_tok {
	uint8_t kind;       /* rd_ptok_kind / rd_ttok_kind (RD_TTOK_SUBDOMAIN: no
	                     * capture, no text) */
	uint8_t capture;
	uint16_t pad;
	uint32_t len;       /* LIT: bytes in POOL */
	uint32_t off;
} rdb_tok;

_Static_assert(sizeof(rdb_tok) == 12, "token is 12 bytes");

/* PINDEX: a trie over the leading segments of the pattern sources, one
 * for the rules outside host blocks (node 0, the root) and one per host
 * name (its root is an RDB_EDGE_HOST node; a wildcard name "*.NAME" has its
 * own root, reached by every host it admits).  A pattern is listed at the node its
 * key ends at: its leading segments that are a whole literal segment
 * (RDB_EDGE_LIT) or a whole placeholder (RDB_EDGE_PARAM), at most
 * RDB_TRIE_DEPTH of them.  A lookup follows the path's segments (literal
 * edge, and placeholder edge for a non-empty segment) from the roots of
 * "every host" and of its host, and tries the patterns of the nodes it
 * reaches, merged in file order.  Layout: the head, `size` nodes (an open
 * addressing hash of the edges, linear probing), then u32 lists of pattern
 * indices, each ascending. */
#define RDB_TRIE_DEPTH 8u
/* Lookups give up the index (and try every pattern in file order) beyond
 * this many nodes reached at one depth or lists to merge: only a
 * pathological rule set of nested placeholders comes near. */
#define RDB_TRIE_MAX_ACTIVE 32u
#define RDB_TRIE_MAX_LISTS 96u

typedef struct rdb_pindex_head {
	uint32_t size;       /* nodes, a power of two (0 when no patterns) */
	uint32_t root_off;   /* u32 index in PINDEX of the root's list */
	uint32_t root_count; /* patterns outside host blocks with no indexed segment */
	uint32_t depth;      /* longest key, at most RDB_TRIE_DEPTH */
	uint32_t root_edges; /* RDB_HAS_* of the root */
	uint32_t reserved[3]; /* zero */
} rdb_pindex_head;

_Static_assert(sizeof(rdb_pindex_head) == 32, "index head is 32 bytes");

enum rdb_edge_kind {
	RDB_EDGE_EMPTY = 0,  /* an unused slot */
	RDB_EDGE_LIT = 1,    /* a literal segment (ASCII-folded) */
	RDB_EDGE_PARAM = 2,  /* any non-empty segment (a placeholder); no text */
	RDB_EDGE_HOST = 3,   /* the root of a host's trie; text = canonical host
	                      * name, "*.NAME" for a wildcard name */
};

/* The parent of every RDB_EDGE_HOST node. */
#define RDB_NODE_HOSTS 0xFFFFFFFFu

/* A node's edges, in bits 8-9 of rdb_node.kind (and in root_edges): a
 * lookup probes only for the kinds of edge a node has. */
#define RDB_KIND_MASK 0xFFu
#define RDB_HAS_LIT 0x100u
#define RDB_HAS_PARAM 0x200u
/* In root_edges only: the index has host roots (a lookup without it skips
 * the probe for its host). */
#define RDB_HAS_HOSTS 0x400u
/* In root_edges only: some host roots are wildcard names "*.NAME" (a
 * lookup then also probes "*" + each suffix of its host that starts at a
 * dot, keeping those rd_wildcard_admits confirms). */
#define RDB_HAS_WILD_HOSTS 0x800u

typedef struct rdb_node {
	uint32_t parent;    /* 0 = the root, n = the node in slot n - 1, RDB_NODE_HOSTS */
	uint32_t kind;      /* rdb_edge_kind | RDB_HAS_* of its own edges */
	uint32_t seg_off;   /* in POOL */
	uint32_t seg_len;
	uint32_t list_off;  /* u32 index in PINDEX */
	uint32_t count;     /* patterns whose key ends here (0: an inner node) */
} rdb_node;

_Static_assert(sizeof(rdb_node) == 24, "index node is 24 bytes");

/* GROUPS: the slots, in cmph order, form groups of RDB_GROUP consecutive
 * slots whose entries are stored back to back; the section holds
 * ceil(nkeys / RDB_GROUP) u32 offsets (in ENTRIES, ascending, the first 0)
 * followed by nkeys u8 key fingerprints (rdb_key_fp), padded with zeros to
 * a multiple of 4 bytes. */
#define RDB_GROUP_SHIFT 2u
#define RDB_GROUP (1u << RDB_GROUP_SHIFT)

static inline uint32_t rdb_ngroups(uint32_t nkeys)
{
	return (uint32_t)(((uint64_t)nkeys + RDB_GROUP - 1) >> RDB_GROUP_SHIFT);
}

static inline uint64_t rdb_groups_size(uint32_t nkeys)
{
	return 4 * (uint64_t)rdb_ngroups(nkeys) + (((uint64_t)nkeys + 3) & ~(uint64_t)3);
}

/* One byte of a key's hash, stored per slot: a lookup whose fingerprint
 * differs has no exact match and reads no entry (255 of 256 misses).  A
 * filter only; a hit is always confirmed by comparing the stored key. */
static inline uint8_t rdb_key_fp(const char *key, size_t n)
{
	const unsigned char *p = (const unsigned char *)key;
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n;
	while (n >= 8) {
		uint64_t w;
		__builtin_memcpy(&w, p, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	uint64_t w = 0;
	__builtin_memcpy(&w, p, n);
	h = (h ^ w) * 0xC4CEB9FE1A85EC53ULL;
	h ^= h >> 29;
	return (uint8_t)(h >> 56);
}

/* META (cold; read only by rd_table_rule_info): head; files (u32 POOL
 * offsets of NUL-terminated paths); runs of rules sharing file, owner and
 * note; one checkpoint per RDB_META_CHECK rules; then the line deltas. */
#define RDB_META_CHECK 64u

typedef struct rdb_meta_head {
	uint32_t nfiles;
	uint32_t nrules;    /* equal to the header's */
	uint32_t nruns;     /* at least 1 when nrules > 0 */
	uint32_t ncheck;    /* ceil(nrules / RDB_META_CHECK) */
} rdb_meta_head;

typedef struct rdb_meta_run {
	uint32_t first_rule; /* ascending, the first run's is 0 */
	uint32_t file;       /* index into the files, RDB_NONE = unknown */
	uint32_t owner;      /* POOL offset of a NUL-terminated string, RDB_NONE */
	uint32_t note;
} rdb_meta_run;

/* Line of rule RDB_META_CHECK * k, and the offset (from the start of the
 * delta stream) of the delta of the rule after it.  The stream holds, for
 * every rule whose index is not a multiple of RDB_META_CHECK, the zigzag
 * LEB128 varint of its line minus the previous rule's line. */
typedef struct rdb_meta_check {
	uint32_t line;
	uint32_t off;
} rdb_meta_check;

/* Candidate byte of an exact entry: status code in bits 0-2, then flags. */
#define RDB_C_STATUS_MASK   0x07u
#define RDB_C_QUERY_DROP    0x08u
#define RDB_C_TARGET_QUERY  0x10u
#define RDB_C_HOSTS         0x20u
#define RDB_C_FRAGMENT      0x40u
/* The target holds RDB_SUBDOMAIN_MARK bytes, each standing for the
 * subdomain a wildcard host name matched (RD_TTOK_SUBDOMAIN). */
#define RDB_C_SUBDOMAIN     0x80u
#define RDB_SUBDOMAIN_MARK  '\x01'

static const uint16_t rdb_status_codes[8] = { 301, 302, 303, 307, 308, 410, 0, 0 };

/* FNV-1a 64 */
#define RDB_FNV_OFFSET 0xcbf29ce484222325ULL
#define RDB_FNV_PRIME 0x100000001b3ULL

static inline uint64_t rdb_fnv64(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = (const unsigned char *)p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= RDB_FNV_PRIME;
	}
	return h;
}

/* The slot hash of an index edge: FNV-1a 32 of the ASCII-folded segment,
 * mixed with the parent node and the edge kind. */
static inline uint32_t rdb_edge_hash(uint32_t parent, uint32_t kind, const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c + 32);
		h ^= c;
		h *= 16777619u;
	}
	h ^= parent * 0x9E3779B1u;
	h ^= kind * 0x85EBCA77u;
	h ^= h >> 15;
	h *= 0x2C1B3C6Du;
	h ^= h >> 12;
	return h;
}

#endif /* RD_TABLE_FORMAT_H */
