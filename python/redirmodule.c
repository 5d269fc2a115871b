/*
 * redirmodule.c - `import redir`: the CPython extension over libredir's
 * table reader (runtime/redir.h).
 *
 *   import redir
 *   t = redir.Table("site.redirdb", reload=True)
 *   t.lookup("/old-pricing", "www.example.com", "ref=ad")  # (301, "/pricing?ref=ad")
 *   t.lookup("/spring-sale")                               # (410, None)
 *   t.lookup("/pricing")                                   # None: pass
 *
 * lookup() answers exactly what the generated Python module's lookup()
 * answers (backends/python.c): str arguments are encoded as UTF-8 with
 * surrogateescape, bytes are taken as they are, the Location is an ASCII
 * str.  The GIL is released around rd_table_lookup, which is thread-safe,
 * whenever another thread exists (other_threads_exist).
 *
 * Hot reload (reload=True): at most once a second a lookup stats the path;
 * when its identity (device, inode, size, mtime) changed, as after the
 * atomic rename of `redirc compile`, the new file is opened and becomes the
 * table of every later lookup.  A refused replacement (not a table,
 * truncated, ...) keeps the old table and is told by `reload_error`.
 *
 * Ownership: a Table owns one `mapping` (an open rd_table) through a count
 * of users: the Table itself and every lookup running with the GIL
 * released.  The count only changes with the GIL held, so it needs no lock
 * of its own; the last user closes the table, so a reload never unmaps a
 * table that a running lookup reads.  (On a free-threaded build the GIL is
 * enabled while this module is loaded: it declares no Py_mod_gil slot.)
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "runtime/redir.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#ifndef REDIR_VERSION
#define REDIR_VERSION "unknown"
#endif

/* How often a reloading Table looks at its path (the issue: at most once a
 * second). */
#define RELOAD_INTERVAL_NS 1000000000LL

/* ---- exceptions ---------------------------------------------------------- */

static PyObject *Error;            /* redir.Error: base of the others */
static PyObject *MissingFileError; /* also FileNotFoundError */
static PyObject *ReadError;        /* also OSError: unreadable, not a file */
static PyObject *NotATableError;   /* RD_E_MAGIC */
static PyObject *TruncatedError;   /* RD_E_TRUNCATED */
static PyObject *VersionError;     /* RD_E_VERSION, RD_E_ENDIAN */
static PyObject *CorruptError;     /* RD_E_CORRUPT */
static PyObject *ChecksumError;    /* RD_E_CHECKSUM, a CorruptError */

/* Raise the exception for a libredir error code.  `message` names the file
 * (rd_error.message) or is NULL (then rd_strerror); `path` (may be NULL)
 * is set as the exception's `path`. */
static PyObject *raise_rd_error(int code, const char *message, PyObject *path)
{
	PyObject *type;
	switch (code) {
	case RD_E_NOMEM:
		return PyErr_NoMemory();
	case RD_E_INVAL:
		PyErr_SetString(PyExc_ValueError, message ? message : rd_strerror(code));
		return NULL;
	case RD_E_IO:
		type = ReadError;
		break;
	case RD_E_TRUNCATED:
		type = TruncatedError;
		break;
	case RD_E_MAGIC:
		type = NotATableError;
		break;
	case RD_E_VERSION:
	case RD_E_ENDIAN:
		type = VersionError;
		break;
	case RD_E_CHECKSUM:
		type = ChecksumError;
		break;
	case RD_E_CORRUPT:
		type = CorruptError;
		break;
	default:
		PyErr_Format(PyExc_SystemError, "redir: unexpected libredir error code %d", code);
		return NULL;
	}
	PyObject *text;
	if (message)
		text = PyUnicode_DecodeFSDefault(message);
	else if (path && PyUnicode_Check(path))
		text = PyUnicode_FromFormat("%U: %s", path, rd_strerror(code));
	else
		text = PyUnicode_FromString(rd_strerror(code));
	if (!text)
		return NULL;
	PyObject *exc = PyObject_CallOneArg(type, text);
	Py_DECREF(text);
	if (!exc)
		return NULL;
	PyObject *pycode = PyLong_FromLong(code);
	int bad = !pycode || PyObject_SetAttrString(exc, "code", pycode) < 0 ||
	          PyObject_SetAttrString(exc, "path", path ? path : Py_None) < 0;
	Py_XDECREF(pycode);
	if (bad) {
		Py_DECREF(exc);
		return NULL;
	}
	PyErr_SetObject(type, exc);
	Py_DECREF(exc);
	return NULL;
}

/* The file is missing: FileNotFoundError semantics (errno, strerror,
 * filename) plus redir.Error's `code` and `path`. */
static PyObject *raise_missing(const char *message, PyObject *path)
{
	PyObject *exc = PyObject_CallFunction(MissingFileError, "isO", ENOENT, message, path);
	if (!exc)
		return NULL;
	PyObject *pycode = PyLong_FromLong(RD_E_IO);
	int bad = !pycode || PyObject_SetAttrString(exc, "code", pycode) < 0 ||
	          PyObject_SetAttrString(exc, "path", path) < 0;
	Py_XDECREF(pycode);
	if (!bad)
		PyErr_SetObject(MissingFileError, exc);
	Py_DECREF(exc);
	return NULL;
}

/* ---- mappings: one open table and its users ------------------------------ */

typedef struct mapping {
	rd_table *table;
	Py_ssize_t users; /* changed only with the GIL held */
} mapping;

static mapping *mapping_new(rd_table *table)
{
	mapping *m = PyMem_RawMalloc(sizeof *m);
	if (!m)
		return NULL;
	m->table = table;
	m->users = 1;
	return m;
}

static void mapping_release(mapping *m)
{
	if (m && --m->users == 0) {
		rd_table_close(m->table);
		PyMem_RawFree(m);
	}
}

/* What identifies the file a path names: a rename gives a new inode, an
 * in-place rewrite a new size or mtime. */
typedef struct file_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
} file_id;

static void file_id_of(const struct stat *st, file_id *id)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

static int file_id_equal(const file_id *a, const file_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns;
}

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- the Table type ---------------------------------------------------- */

typedef struct {
	PyObject_HEAD
	mapping *current;       /* NULL once closed */
	PyObject *path;         /* str, as given (os.fspath) */
	PyObject *path_bytes;   /* bytes, for stat and open */
	int reload;
	int checking;           /* a reload check runs with the GIL released */
	file_id id;             /* of the file `current` was opened from */
	int64_t next_check_ns;
	unsigned long generation; /* 1 + the number of reloads */
	PyObject *reload_error; /* str: why the last replacement was refused */
} TableObject;

static PyTypeObject TableType;

/* Cached answers: the statuses as ints and (410, None). */
static PyObject *status_obj[5]; /* 301 302 303 307 308 */
static PyObject *gone_answer;

static PyObject *status_int(int status)
{
	PyObject *o = NULL;
	switch (status) {
	case 301: o = status_obj[0]; break;
	case 302: o = status_obj[1]; break;
	case 303: o = status_obj[2]; break;
	case 307: o = status_obj[3]; break;
	case 308: o = status_obj[4]; break;
	default: return PyLong_FromLong(status);
	}
	Py_INCREF(o);
	return o;
}

/* Open `path_bytes` into a new mapping and its identity.  Releases the GIL
 * for the system calls.  NULL with an exception set on failure. */
static mapping *open_mapping(PyObject *path, PyObject *path_bytes, file_id *id)
{
	const char *cpath = PyBytes_AS_STRING(path_bytes);
	if ((size_t)PyBytes_GET_SIZE(path_bytes) != strlen(cpath)) {
		PyErr_SetString(PyExc_ValueError, "redir.Table: the path holds a NUL byte");
		return NULL;
	}
	rd_table *t = NULL;
	rd_error err;
	struct stat st;
	int code, stat_errno = 0;
	Py_BEGIN_ALLOW_THREADS
	/* stat first: a replacement between the two is seen by the next check */
	if (stat(cpath, &st) != 0)
		stat_errno = errno;
	code = rd_table_open(cpath, &t, &err);
	Py_END_ALLOW_THREADS
	if (code != RD_OK) {
		if (code == RD_E_IO && stat_errno == ENOENT)
			raise_missing(err.message, path);
		else
			raise_rd_error(code, err.message, path);
		return NULL;
	}
	if (stat_errno == 0) {
		file_id_of(&st, id);
	} else {
		memset(id, 0, sizeof *id); /* the next check reopens */
	}
	mapping *m = mapping_new(t);
	if (!m) {
		rd_table_close(t);
		PyErr_NoMemory();
	}
	return m;
}

static int Table_init(TableObject *self, PyObject *args, PyObject *kwds)
{
	static char *kwlist[] = {"path", "reload", NULL};
	PyObject *path_arg;
	int reload = 0;
	if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$p:Table", kwlist, &path_arg, &reload))
		return -1;
	if (self->path) {
		PyErr_SetString(PyExc_TypeError, "redir.Table.__init__ called twice");
		return -1;
	}
	PyObject *path_bytes = NULL;
	if (!PyUnicode_FSConverter(path_arg, &path_bytes))
		return -1;
	PyObject *path = PyOS_FSPath(path_arg);
	if (!path) {
		Py_DECREF(path_bytes);
		return -1;
	}
	if (PyBytes_Check(path)) {
		PyObject *s = PyUnicode_DecodeFSDefaultAndSize(PyBytes_AS_STRING(path),
		                                               PyBytes_GET_SIZE(path));
		Py_DECREF(path);
		path = s;
		if (!path) {
			Py_DECREF(path_bytes);
			return -1;
		}
	}
	mapping *m = open_mapping(path, path_bytes, &self->id);
	if (!m) {
		Py_DECREF(path);
		Py_DECREF(path_bytes);
		return -1;
	}
	self->current = m;
	self->path = path;
	self->path_bytes = path_bytes;
	self->reload = reload;
	self->generation = 1;
	self->next_check_ns = monotonic_ns() + RELOAD_INTERVAL_NS;
	return 0;
}

static void Table_dealloc(TableObject *self)
{
	mapping_release(self->current);
	self->current = NULL;
	Py_CLEAR(self->path);
	Py_CLEAR(self->path_bytes);
	Py_CLEAR(self->reload_error);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static void set_reload_error(TableObject *self, PyObject *text)
{
	Py_XSETREF(self->reload_error, text);
	if (!text)
		PyErr_Clear(); /* the text could not be made: say nothing rather than fail */
}

/* With the GIL held: once the interval has passed, stat the path and, when
 * the file was replaced, switch to the new one.  Never raises: a refused
 * replacement keeps the old table (see reload_error). */
static void table_check_reload(TableObject *self)
{
	int64_t now = monotonic_ns();
	if (now < self->next_check_ns || self->checking || !self->current)
		return;
	self->checking = 1;
	self->next_check_ns = now + RELOAD_INTERVAL_NS;
	const char *cpath = PyBytes_AS_STRING(self->path_bytes);
	struct stat st;
	file_id id;
	int stat_errno = 0, changed = 0, code = RD_OK;
	rd_table *fresh = NULL;
	rd_error err;
	Py_BEGIN_ALLOW_THREADS
	if (stat(cpath, &st) != 0) {
		stat_errno = errno;
	} else {
		file_id_of(&st, &id);
		if (!file_id_equal(&id, &self->id)) {
			changed = 1;
			code = rd_table_open(cpath, &fresh, &err);
		}
	}
	Py_END_ALLOW_THREADS
	if (stat_errno) {
		/* mid-deploy or removed: keep serving the table we have */
		set_reload_error(self, PyUnicode_FromFormat("%U: %s (the table in use is kept)",
		                                            self->path, strerror(stat_errno)));
	} else if (changed) {
		self->id = id; /* a refused file is not retried until it changes again */
		mapping *m = code == RD_OK ? mapping_new(fresh) : NULL;
		if (m && self->current) {
			mapping_release(self->current);
			self->current = m;
			self->generation++;
			Py_CLEAR(self->reload_error);
		} else {
			if (code == RD_OK) {
				rd_table_close(fresh);
				PyMem_RawFree(m);
			}
			set_reload_error(self, PyUnicode_FromFormat("%s (the table in use is kept)",
			                                            code == RD_OK ? "out of memory"
			                                                          : err.message));
		}
	}
	self->checking = 0;
}

/* A request's field as bytes: str is UTF-8 (surrogateescape), bytes as is,
 * another buffer copied; None gives NULL/0 when `none_ok`.  *owned gets a
 * new reference to keep alive (or NULL). */
static int request_field(PyObject *o, const char *what, int none_ok, const char **s,
                         Py_ssize_t *n, PyObject **owned)
{
	*owned = NULL;
	if (o == NULL || o == Py_None) {
		if (!none_ok && o == Py_None) {
			PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not None", what);
			return -1;
		}
		*s = NULL;
		*n = 0;
		return 0;
	}
	if (PyUnicode_Check(o)) {
		*s = PyUnicode_AsUTF8AndSize(o, n);
		if (*s)
			return 0;
		if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
			return -1;
		PyErr_Clear(); /* lone surrogates: the bytes they escape */
		*owned = PyUnicode_AsEncodedString(o, "utf-8", "surrogateescape");
		if (!*owned)
			return -1;
	} else if (PyBytes_Check(o)) {
		*s = PyBytes_AS_STRING(o);
		*n = PyBytes_GET_SIZE(o);
		return 0;
	} else if (PyObject_CheckBuffer(o)) {
		*owned = PyBytes_FromObject(o); /* a copy: a bytearray may change meanwhile */
		if (!*owned)
			return -1;
	} else {
		PyErr_Format(PyExc_TypeError, "%s must be str or bytes, not %.100s", what,
		             Py_TYPE(o)->tp_name);
		return -1;
	}
	*s = PyBytes_AS_STRING(*owned);
	*n = PyBytes_GET_SIZE(*owned);
	return 0;
}

/* lookup(raw_path, host=None, query="") arguments, positional or by name
 * (`path` is accepted for `raw_path`, the generated module's name). */
static int parse_request(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                         PyObject **path, PyObject **host, PyObject **query)
{
	PyObject *slot[3] = {NULL, NULL, NULL};
	if (nargs > 3) {
		PyErr_Format(PyExc_TypeError, "lookup() takes at most 3 arguments (%zd given)", nargs);
		return -1;
	}
	for (Py_ssize_t i = 0; i < nargs; i++)
		slot[i] = args[i];
	Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
	for (Py_ssize_t i = 0; i < nkw; i++) {
		PyObject *name = PyTuple_GET_ITEM(kwnames, i);
		int k;
		if (PyUnicode_CompareWithASCIIString(name, "raw_path") == 0 ||
		    PyUnicode_CompareWithASCIIString(name, "path") == 0)
			k = 0;
		else if (PyUnicode_CompareWithASCIIString(name, "host") == 0)
			k = 1;
		else if (PyUnicode_CompareWithASCIIString(name, "query") == 0)
			k = 2;
		else {
			PyErr_Format(PyExc_TypeError, "lookup() got an unexpected keyword argument '%U'",
			             name);
			return -1;
		}
		if (slot[k]) {
			PyErr_Format(PyExc_TypeError, "lookup() got multiple values for argument '%U'",
			             name);
			return -1;
		}
		slot[k] = args[nargs + i];
	}
	if (!slot[0]) {
		PyErr_SetString(PyExc_TypeError, "lookup() missing required argument 'raw_path'");
		return -1;
	}
	*path = slot[0];
	*host = slot[1];
	*query = slot[2];
	return 0;
}

/* Whether another thread could want the GIL during a lookup: another
 * thread state in this interpreter, or another interpreter.  A process
 * with one Python thread keeps the GIL around a lookup: nobody could take
 * it, and releasing and taking it back costs more than an exact hit
 * (about 300 ns against 200 ns, bench/README.md).  A thread that starts
 * meanwhile waits for one lookup at most. */
static int other_threads_exist(void)
{
	PyThreadState *ts = PyThreadState_Get();
	if (PyInterpreterState_Next(PyInterpreterState_Head()) != NULL)
		return 1;
	PyThreadState *head = PyInterpreterState_ThreadHead(PyThreadState_GetInterpreter(ts));
	return head != ts || PyThreadState_Next(head) != NULL;
}

/* The lookup itself, retried with a bigger buffer on RD_E_BUFFER; *buf is
 * replaced by a malloc'ed one then (the caller frees it if not `stack`). */
static int lookup_with_retry(const rd_table *t, const char *host, const char *path,
                             size_t path_len, const char *query, size_t query_len,
                             rd_result *res, char **buf, size_t *cap, const char *stack)
{
	for (;;) {
		int st = rd_table_lookup(t, host, path, path_len, query, query_len, res, *buf, *cap);
		if (st != RD_E_BUFFER)
			return st;
		if (res->needed <= *cap)
			return RD_E_CORRUPT; /* cannot happen: never loop on it */
		char *bigger = *buf == stack ? malloc(res->needed) : realloc(*buf, res->needed);
		if (!bigger)
			return RD_E_NOMEM;
		*buf = bigger;
		*cap = res->needed;
	}
}

static PyObject *closed_error(void)
{
	PyErr_SetString(PyExc_ValueError, "lookup on a closed redir.Table");
	return NULL;
}

static PyObject *text_or_none(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "surrogateescape");
}

/* The metadata of rule `id` in `t` as a dict. */
static PyObject *info_dict(const rd_table *t, uint32_t id, PyObject *path)
{
	rd_rule_info info;
	int code = rd_table_rule_info(t, id, &info);
	if (code == RD_E_INVAL) {
		PyErr_Format(PyExc_IndexError, "rule index %lu out of range (the table has %lu rules)",
		             (unsigned long)id, (unsigned long)rd_table_nrules(t));
		return NULL;
	}
	if (code != RD_OK)
		return raise_rd_error(code, NULL, path);
	PyObject *file = text_or_none(info.file);
	PyObject *owner = text_or_none(info.owner);
	PyObject *note = text_or_none(info.note);
	PyObject *d = NULL;
	if (file && owner && note)
		d = Py_BuildValue("{s:k,s:O,s:I,s:O,s:O}", "index", (unsigned long)id, "file", file,
		                  "line", (unsigned)info.line, "owner", owner, "note", note);
	Py_XDECREF(file);
	Py_XDECREF(owner);
	Py_XDECREF(note);
	return d;
}

enum answer_form {
	FORM_LOOKUP,  /* (status, location) */
	FORM_RULE,    /* (index, status, location) */
	FORM_EXPLAIN, /* (status, location, rule_info dict) */
};

static PyObject *table_answer(TableObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames, enum answer_form form)
{
	PyObject *opath, *ohost, *oquery;
	if (parse_request(args, nargs, kwnames, &opath, &ohost, &oquery) < 0)
		return NULL;
	const char *path, *host, *query;
	Py_ssize_t path_len, host_len, query_len;
	PyObject *own_path, *own_host = NULL, *own_query = NULL;
	PyObject *result = NULL;
	if (request_field(opath, "path", 0, &path, &path_len, &own_path) < 0)
		return NULL;
	if (request_field(ohost, "host", 1, &host, &host_len, &own_host) < 0 ||
	    request_field(oquery, "query", 1, &query, &query_len, &own_query) < 0)
		goto done;
	/* A Host with a NUL byte names no served host (the generated module
	 * compares it whole): only the rules outside host blocks apply. */
	if (host && (size_t)host_len != strlen(host))
		host = NULL;
	if (self->reload)
		table_check_reload(self);
	mapping *m = self->current;
	if (!m) {
		closed_error();
		goto done;
	}
	m->users++;
	char stack_buf[2048];
	char *buf = stack_buf;
	size_t cap = sizeof stack_buf;
	rd_result res;
	int st;
	if (other_threads_exist()) {
		Py_BEGIN_ALLOW_THREADS
		st = lookup_with_retry(m->table, host, path, (size_t)path_len, query,
		                       (size_t)query_len, &res, &buf, &cap, stack_buf);
		Py_END_ALLOW_THREADS
	} else {
		st = lookup_with_retry(m->table, host, path, (size_t)path_len, query,
		                       (size_t)query_len, &res, &buf, &cap, stack_buf);
	}
	if (st < 0) {
		raise_rd_error(st, NULL, self->path);
	} else if (st == 0) {
		result = Py_None;
		Py_INCREF(result);
	} else if (form == FORM_LOOKUP && st == 410) {
		result = gone_answer;
		Py_INCREF(result);
	} else {
		PyObject *status = status_int(st);
		PyObject *loc = st == 410 ? (Py_INCREF(Py_None), Py_None)
		                          : PyUnicode_DecodeASCII(buf, (Py_ssize_t)res.location_len, NULL);
		if (!loc && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
			/* every Location is ASCII (spec section 3): the table is damaged */
			PyErr_Clear();
			raise_rd_error(RD_E_CORRUPT, NULL, self->path);
		}
		if (status && loc) {
			if (form == FORM_LOOKUP) {
				result = PyTuple_Pack(2, status, loc);
			} else if (form == FORM_RULE) {
				PyObject *index = PyLong_FromUnsignedLong(res.rule_id);
				if (index)
					result = PyTuple_Pack(3, index, status, loc);
				Py_XDECREF(index);
			} else {
				PyObject *info = info_dict(m->table, res.rule_id, self->path);
				if (info)
					result = PyTuple_Pack(3, status, loc, info);
				Py_XDECREF(info);
			}
		}
		Py_XDECREF(status);
		Py_XDECREF(loc);
	}
	if (buf != stack_buf)
		free(buf);
	mapping_release(m);
done:
	Py_XDECREF(own_path);
	Py_XDECREF(own_host);
	Py_XDECREF(own_query);
	return result;
}

static PyObject *Table_lookup(TableObject *self, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames)
{
	return table_answer(self, args, nargs, kwnames, FORM_LOOKUP);
}

static PyObject *Table_lookup_rule(TableObject *self, PyObject *const *args, Py_ssize_t nargs,
                                   PyObject *kwnames)
{
	return table_answer(self, args, nargs, kwnames, FORM_RULE);
}

static PyObject *Table_explain(TableObject *self, PyObject *const *args, Py_ssize_t nargs,
                               PyObject *kwnames)
{
	return table_answer(self, args, nargs, kwnames, FORM_EXPLAIN);
}

static PyObject *Table_rule_info(TableObject *self, PyObject *arg)
{
	if (!self->current)
		return closed_error();
	Py_ssize_t i = PyNumber_AsSsize_t(arg, PyExc_IndexError);
	if (i == -1 && PyErr_Occurred())
		return NULL;
	uint32_t n = rd_table_nrules(self->current->table);
	if (i < 0)
		i += n;
	if (i < 0 || (size_t)i >= n) {
		PyErr_Format(PyExc_IndexError, "rule index out of range (the table has %lu rules)",
		             (unsigned long)n);
		return NULL;
	}
	return info_dict(self->current->table, (uint32_t)i, self->path);
}

static PyObject *Table_verify(TableObject *self, PyObject *Py_UNUSED(ignored))
{
	mapping *m = self->current;
	if (!m)
		return closed_error();
	m->users++;
	rd_error err;
	int code;
	Py_BEGIN_ALLOW_THREADS
	code = rd_table_verify(m->table, &err);
	Py_END_ALLOW_THREADS
	mapping_release(m);
	if (code != RD_OK)
		return raise_rd_error(code, err.message, self->path);
	Py_RETURN_NONE;
}

static PyObject *Table_close(TableObject *self, PyObject *Py_UNUSED(ignored))
{
	mapping_release(self->current); /* running lookups keep their own use */
	self->current = NULL;
	Py_RETURN_NONE;
}

static PyObject *Table_enter(TableObject *self, PyObject *Py_UNUSED(ignored))
{
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *Table_exit(TableObject *self, PyObject *Py_UNUSED(args))
{
	return Table_close(self, NULL);
}

static Py_ssize_t Table_len(TableObject *self)
{
	if (!self->current) {
		closed_error();
		return -1;
	}
	return (Py_ssize_t)rd_table_nrules(self->current->table);
}

static PyObject *Table_get_generation(TableObject *self, void *Py_UNUSED(closure))
{
	return PyLong_FromUnsignedLong(self->generation);
}

static PyObject *Table_get_reload_error(TableObject *self, void *Py_UNUSED(closure))
{
	PyObject *e = self->reload_error ? self->reload_error : Py_None;
	Py_INCREF(e);
	return e;
}

static PyObject *Table_get_path(TableObject *self, void *Py_UNUSED(closure))
{
	PyObject *p = self->path ? self->path : Py_None;
	Py_INCREF(p);
	return p;
}

static PyObject *Table_get_reload(TableObject *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(self->reload);
}

static PyObject *Table_get_closed(TableObject *self, void *Py_UNUSED(closure))
{
	return PyBool_FromLong(self->current == NULL);
}

static PyObject *Table_repr(TableObject *self)
{
	if (!self->path)
		return PyUnicode_FromString("<redir.Table (not open)>");
	if (!self->current)
		return PyUnicode_FromFormat("<redir.Table %R closed>", self->path);
	return PyUnicode_FromFormat("<redir.Table %R, %lu rules%s>", self->path,
	                            (unsigned long)rd_table_nrules(self->current->table),
	                            self->reload ? ", reload" : "");
}

static PyMethodDef Table_methods[] = {
	{"lookup", (PyCFunction)(void (*)(void))Table_lookup, METH_FASTCALL | METH_KEYWORDS,
	 "lookup(raw_path, host=None, query=\"\") -> (status, location) | (410, None) | None\n\n"
	 "The first response the request gets, as the generated module's lookup():\n"
	 "raw_path and query are the request's percent-encoded bytes (str: UTF-8 with\n"
	 "surrogateescape), host the Host header or None.  None means pass."},
	{"lookup_rule", (PyCFunction)(void (*)(void))Table_lookup_rule,
	 METH_FASTCALL | METH_KEYWORDS,
	 "lookup_rule(raw_path, host=None, query=\"\") -> (index, status, location) | None"},
	{"explain", (PyCFunction)(void (*)(void))Table_explain, METH_FASTCALL | METH_KEYWORDS,
	 "explain(raw_path, host=None, query=\"\") -> (status, location, rule_info) | None\n\n"
	 "The answer and the metadata of the rule that gave it, from one table (a reload\n"
	 "cannot come between the two)."},
	{"rule_info", (PyCFunction)Table_rule_info, METH_O,
	 "rule_info(index) -> {'index', 'file', 'line', 'owner', 'note'}"},
	{"verify", (PyCFunction)Table_verify, METH_NOARGS,
	 "verify(): check the checksum of the whole file; raises redir.ChecksumError"},
	{"close", (PyCFunction)Table_close, METH_NOARGS,
	 "close(): unmap the table once no running lookup uses it"},
	{"__enter__", (PyCFunction)Table_enter, METH_NOARGS, NULL},
	{"__exit__", (PyCFunction)Table_exit, METH_VARARGS, NULL},
	{NULL, NULL, 0, NULL},
};

static PyGetSetDef Table_getset[] = {
	{"path", (getter)Table_get_path, NULL, "the path given to Table()", NULL},
	{"reload", (getter)Table_get_reload, NULL, "whether the file is watched", NULL},
	{"closed", (getter)Table_get_closed, NULL, "whether close() was called", NULL},
	{"generation", (getter)Table_get_generation, NULL,
	 "1 + the number of times a replaced file was switched to", NULL},
	{"reload_error", (getter)Table_get_reload_error, NULL,
	 "why the last replacement of the file was refused (the old table is kept), or None",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static PySequenceMethods Table_as_sequence = {
	.sq_length = (lenfunc)Table_len,
};

static PyTypeObject TableType = {
	PyVarObject_HEAD_INIT(NULL, 0)
	.tp_name = "redir.Table",
	.tp_basicsize = sizeof(TableObject),
	.tp_dealloc = (destructor)Table_dealloc,
	.tp_repr = (reprfunc)Table_repr,
	.tp_as_sequence = &Table_as_sequence,
	.tp_flags = Py_TPFLAGS_DEFAULT,
	.tp_doc = "Table(path, *, reload=False): a compiled .redirdb table, memory-mapped.\n\n"
	          "Opening checks the header only (constant time); verify() checks the\n"
	          "whole file.  With reload=True, a replaced file (atomic rename) is\n"
	          "noticed within a second and used from the next lookup on.",
	.tp_methods = Table_methods,
	.tp_getset = Table_getset,
	.tp_init = (initproc)Table_init,
	.tp_new = PyType_GenericNew,
};

/* ---- the module ---------------------------------------------------------- */

static struct PyModuleDef redir_module = {
	PyModuleDef_HEAD_INIT,
	.m_name = "redir",
	.m_doc = "Redirect tables compiled by redirc (--target table), read by libredir.\n\n"
	         "Table(path, reload=False).lookup(raw_path, host=None, query=\"\") answers\n"
	         "exactly as the generated Python module (--target python) does.",
	.m_size = -1,
};

/* A new exception class redir.NAME with `bases` (a type or a tuple). */
static PyObject *add_exception(PyObject *mod, const char *name, PyObject *bases,
                               const char *doc)
{
	char full[64];
	snprintf(full, sizeof full, "redir.%s", name);
	PyObject *exc = PyErr_NewExceptionWithDoc(full, doc, bases, NULL);
	if (!exc)
		return NULL;
	if (PyModule_AddObjectRef(mod, name, exc) < 0) {
		Py_DECREF(exc);
		return NULL;
	}
	return exc; /* the module's reference and this one (kept in a static) */
}

static PyObject *add_exception2(PyObject *mod, const char *name, PyObject *base1,
                                PyObject *base2, const char *doc)
{
	PyObject *bases = PyTuple_Pack(2, base1, base2);
	if (!bases)
		return NULL;
	PyObject *exc = add_exception(mod, name, bases, doc);
	Py_DECREF(bases);
	return exc;
}

PyMODINIT_FUNC PyInit_redir(void);

PyMODINIT_FUNC PyInit_redir(void)
{
	if (PyType_Ready(&TableType) < 0)
		return NULL;
	PyObject *mod = PyModule_Create(&redir_module);
	if (!mod)
		return NULL;
	static const int statuses[5] = {301, 302, 303, 307, 308};
	for (int i = 0; i < 5; i++)
		if (!status_obj[i] && !(status_obj[i] = PyLong_FromLong(statuses[i])))
			goto fail;
	if (!gone_answer && !(gone_answer = Py_BuildValue("(iO)", 410, Py_None)))
		goto fail;
	if (!(Error = add_exception(mod, "Error", PyExc_Exception,
	                            "A table cannot be used; `code` is the RD_E_* code of "
	                            "redir.h, `path` the table's path")) ||
	    !(MissingFileError = add_exception2(mod, "MissingFileError", Error,
	                                        PyExc_FileNotFoundError,
	                                        "The table file does not exist")) ||
	    !(ReadError = add_exception2(mod, "ReadError", Error, PyExc_OSError,
	                                 "The table file cannot be opened, read or mapped")) ||
	    !(NotATableError = add_exception(mod, "NotATableError", Error,
	                                     "The file is not a .redirdb table (bad magic)")) ||
	    !(TruncatedError = add_exception(mod, "TruncatedError", Error,
	                                     "The file is shorter than its header says")) ||
	    !(VersionError = add_exception(mod, "VersionError", Error,
	                                   "A format version (or byte order) this library "
	                                   "does not read: recompile the table here")) ||
	    !(CorruptError = add_exception(mod, "CorruptError", Error,
	                                   "A header field or a record is out of bounds")) ||
	    !(ChecksumError = add_exception(mod, "ChecksumError", CorruptError,
	                                    "verify(): the contents do not match the checksum")))
		goto fail;
	Py_INCREF(&TableType);
	if (PyModule_AddObject(mod, "Table", (PyObject *)&TableType) < 0) {
		Py_DECREF(&TableType);
		goto fail;
	}
	if (PyModule_AddStringConstant(mod, "__version__", REDIR_VERSION) < 0 ||
	    PyModule_AddIntConstant(mod, "RELOAD_INTERVAL", RELOAD_INTERVAL_NS / 1000000000LL) < 0)
		goto fail;
	return mod;
fail:
	Py_DECREF(mod);
	return NULL;
}
