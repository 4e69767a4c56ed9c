/* The sqlite backend's schema, its migrations and its statements, and the
 * connection setup: WAL, synchronous=FULL on the writer (a commit is on
 * disk when COMMIT returns), a busy timeout for other processes (the admin
 * commands write while the server runs). The auth events live in a second
 * database, PATH-events (the event log: its own write lock), which readers
 * attach; its table names are the same, unqualified, in both kinds of
 * connection. See docs/internals/store.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "store/sqlite_int.h"

#define COLS_USER "user, domain, ha1_md5, ha1_sha256, ha1_sha512_256, uh_md5, uh_sha256, " \
		  "uh_sha512_256, disabled, created, changed"
#define COLS_BIND "aor, contact, expires, q, call_id, cseq, source_addr, source_port, " \
		  "transport, user_agent, path, received, instance, reg_id, updated"
#define COLS_BAN "addr, prefix, user, created, until, level, reason"
#define COLS_EV "id, time_ms, source_addr, source_port, transport, method, aor, auth_user, " \
		"realm, user_agent, cause, detail"

static const char *const sql[Q__COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_SYNC_FULL] = "PRAGMA synchronous=FULL",
	[Q_SYNC_NORMAL] = "PRAGMA synchronous=NORMAL",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_SAVEPOINT] = "SAVEPOINT job",
	[Q_RELEASE] = "RELEASE job",
	[Q_ROLLBACK_TO] = "ROLLBACK TO job",
	[Q_READ_BEGIN] = "BEGIN",
	[Q_READ_END] = "COMMIT",
	[Q_USER_GET] = "SELECT " COLS_USER " FROM subscribers WHERE user = ?1 AND domain = ?2",
	[Q_USER_GET_UH0] = "SELECT " COLS_USER " FROM subscribers WHERE uh_md5 = ?1 AND domain = ?2",
	[Q_USER_GET_UH1] = "SELECT " COLS_USER " FROM subscribers WHERE uh_sha256 = ?1 AND domain = ?2",
	[Q_USER_GET_UH2] = "SELECT " COLS_USER " FROM subscribers WHERE uh_sha512_256 = ?1 AND domain = ?2",
	[Q_USER_INSERT] = "INSERT INTO subscribers(" COLS_USER ") "
			  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
	[Q_USER_SET_CRED] = "UPDATE subscribers SET ha1_md5 = ?3, ha1_sha256 = ?4, "
			    "ha1_sha512_256 = ?5, uh_md5 = ?6, uh_sha256 = ?7, uh_sha512_256 = ?8, "
			    "changed = ?10 WHERE user = ?1 AND domain = ?2",
	[Q_USER_SET_DISABLED] = "UPDATE subscribers SET disabled = ?3, changed = ?4 "
				"WHERE user = ?1 AND domain = ?2",
	[Q_USER_DEL] = "DELETE FROM subscribers WHERE user = ?1 AND domain = ?2",
	[Q_USER_LIST] = "SELECT " COLS_USER " FROM subscribers ORDER BY domain, user",
	[Q_USER_EXISTS] = "SELECT 1 FROM subscribers WHERE user = ?1 AND domain = ?2",
	[Q_USER_VERSION] = "SELECT seq FROM sqlite_sequence WHERE name = 'user_changes'",
	[Q_USER_COUNT] = "SELECT count(*) FROM subscribers",
	[Q_USER_CHANGES] = "SELECT user, domain FROM user_changes WHERE seq > ?1 ORDER BY seq",
	[Q_USER_CHANGES_MIN] = "SELECT min(seq) FROM user_changes",
	[Q_BIND_PUT] = "INSERT OR REPLACE INTO bindings(" COLS_BIND ") VALUES(?1, ?2, ?3, ?4, "
		       "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
	[Q_BIND_DEL] = "DELETE FROM bindings WHERE aor = ?1 AND contact = ?2",
	[Q_BIND_DEL_AOR] = "DELETE FROM bindings WHERE aor = ?1",
	[Q_BIND_LIST_AOR] = "SELECT " COLS_BIND " FROM bindings WHERE aor = ?1 AND "
			    "(?2 = 0 OR expires > ?2) ORDER BY aor, q DESC, contact",
	[Q_BIND_LIST_ALL] = "SELECT " COLS_BIND " FROM bindings WHERE (?2 = 0 OR expires > ?2) "
			    "ORDER BY aor, q DESC, contact",
	[Q_BIND_EXPIRE] = "DELETE FROM bindings WHERE expires <= ?1",
	[Q_NC_GET] = "SELECT nc, cnonce, response, branch FROM nonce_counts "
		     "WHERE nonce = ?1 AND expires >= ?2",
	[Q_NC_PUT] = "INSERT OR REPLACE INTO nonce_counts(nonce, nc, cnonce, response, branch, "
		     "expires) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_NC_EXPIRE] = "DELETE FROM nonce_counts WHERE expires < ?1",
	[Q_EV_INSERT] = "INSERT INTO auth_events(time_ms, source_addr, source_port, transport, "
			"method, aor, auth_user, realm, user_agent, cause, detail) "
			"VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[Q_EV_PRUNE_AGE] = "DELETE FROM auth_events WHERE time_ms < ?1",
	[Q_EV_PRUNE_ROWS] = "DELETE FROM auth_events WHERE id <= "
			    "(SELECT max(id) FROM auth_events) - ?1",
	[Q_EV_QUERY_USER] = "SELECT " COLS_EV " FROM auth_events WHERE "
			    "(aor = ?1 OR (auth_user = ?2 AND realm = ?3)) AND time_ms >= ?4 AND "
			    "(?5 IS NULL OR cause = ?5) AND (?6 IS NULL OR source_addr = ?6) "
			    "AND (?8 IS NULL OR method = ?8 COLLATE NOCASE) ORDER BY id DESC LIMIT ?7",
	[Q_EV_QUERY_ALL] = "SELECT " COLS_EV " FROM auth_events WHERE time_ms >= ?4 AND "
			   "(?5 IS NULL OR cause = ?5) AND (?6 IS NULL OR source_addr = ?6) "
			   "AND (?8 IS NULL OR method = ?8 COLLATE NOCASE) ORDER BY id DESC LIMIT ?7",
	[Q_BAN_PUT] = "INSERT OR REPLACE INTO bans(" COLS_BAN ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[Q_BAN_DEL] = "DELETE FROM bans WHERE addr = ?1 AND prefix = ?2",
	[Q_BAN_LIST] = "SELECT " COLS_BAN " FROM bans WHERE ?1 = 0 OR until = 0 OR until > ?1 "
		       "ORDER BY addr, prefix, user",
	[Q_BAN_PRUNE] = "DELETE FROM bans WHERE until <> 0 AND until < ?1",
	[Q_BAN_VERSION] = "SELECT seq FROM sqlite_sequence WHERE name = 'ban_changes'",
};

/* migrations[v] takes a database from schema version v to v + 1. Never
 * edit a released one: append. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE subscribers ("
	" user TEXT NOT NULL, domain TEXT NOT NULL,"
	" ha1_md5 TEXT NOT NULL, ha1_sha256 TEXT NOT NULL, ha1_sha512_256 TEXT NOT NULL,"
	" uh_md5 TEXT NOT NULL, uh_sha256 TEXT NOT NULL, uh_sha512_256 TEXT NOT NULL,"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, changed INTEGER NOT NULL,"
	" PRIMARY KEY (user, domain)) WITHOUT ROWID;"
	"CREATE INDEX subscribers_uh_md5 ON subscribers(uh_md5);"
	"CREATE INDEX subscribers_uh_sha256 ON subscribers(uh_sha256);"
	"CREATE INDEX subscribers_uh_sha512_256 ON subscribers(uh_sha512_256);"
	/* The change log behind sw_store_user_changes; written by triggers so
	 * every writer (any process, any tool) is seen. */
	"CREATE TABLE user_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user TEXT NOT NULL, domain TEXT NOT NULL);"
	"CREATE TRIGGER subscribers_ins AFTER INSERT ON subscribers BEGIN"
	" INSERT INTO user_changes(user, domain) VALUES (NEW.user, NEW.domain); END;"
	"CREATE TRIGGER subscribers_upd AFTER UPDATE ON subscribers BEGIN"
	" INSERT INTO user_changes(user, domain) VALUES (NEW.user, NEW.domain); END;"
	"CREATE TRIGGER subscribers_del AFTER DELETE ON subscribers BEGIN"
	" INSERT INTO user_changes(user, domain) VALUES (OLD.user, OLD.domain); END;"
	"CREATE TRIGGER user_changes_trim AFTER INSERT ON user_changes BEGIN"
	" DELETE FROM user_changes WHERE seq <= NEW.seq - 100000; END;"
	"CREATE TABLE bindings ("
	" aor TEXT NOT NULL, contact TEXT NOT NULL, expires INTEGER NOT NULL,"
	" q INTEGER NOT NULL, call_id TEXT NOT NULL, cseq INTEGER NOT NULL,"
	" source_addr TEXT NOT NULL, source_port INTEGER NOT NULL, transport TEXT NOT NULL,"
	" user_agent TEXT NOT NULL, path TEXT NOT NULL, received TEXT NOT NULL,"
	" instance TEXT NOT NULL, reg_id INTEGER NOT NULL, updated INTEGER NOT NULL,"
	" PRIMARY KEY (aor, contact)) WITHOUT ROWID;"
	"CREATE INDEX bindings_expires ON bindings(expires);"
	"CREATE TABLE nonce_counts ("
	" nonce TEXT PRIMARY KEY, nc INTEGER NOT NULL, cnonce TEXT NOT NULL,"
	" response TEXT NOT NULL, branch TEXT NOT NULL, expires INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE auth_events ("
	" id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" source_addr TEXT NOT NULL, source_port INTEGER NOT NULL, transport TEXT NOT NULL,"
	" method TEXT NOT NULL, aor TEXT NOT NULL, auth_user TEXT NOT NULL, realm TEXT NOT NULL,"
	" user_agent TEXT NOT NULL, cause TEXT NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX auth_events_time ON auth_events(time_ms);"
	"CREATE INDEX auth_events_aor ON auth_events(aor);"
	"CREATE INDEX auth_events_user ON auth_events(auth_user, realm);",
	/* 2: the events move to the event log (attached as ev while migrating) */
	"INSERT OR IGNORE INTO ev.auth_events SELECT * FROM main.auth_events;"
	"DROP TABLE main.auth_events;",
	/* 3: bans (lib/ban), and their change counter for a running server:
	 * the sequence of ban_changes moves with every write, whoever makes it */
	"CREATE TABLE bans ("
	" addr TEXT NOT NULL, prefix INTEGER NOT NULL, user TEXT NOT NULL,"
	" created INTEGER NOT NULL, until INTEGER NOT NULL, level INTEGER NOT NULL,"
	" reason TEXT NOT NULL, PRIMARY KEY (addr, prefix, user)) WITHOUT ROWID;"
	"CREATE TABLE ban_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT);"
	"CREATE TRIGGER bans_ins AFTER INSERT ON bans BEGIN"
	" INSERT INTO ban_changes(seq) VALUES (NULL); END;"
	"CREATE TRIGGER bans_upd AFTER UPDATE ON bans BEGIN"
	" INSERT INTO ban_changes(seq) VALUES (NULL); END;"
	"CREATE TRIGGER bans_del AFTER DELETE ON bans BEGIN"
	" INSERT INTO ban_changes(seq) VALUES (NULL); END;"
	"CREATE TRIGGER ban_changes_trim AFTER INSERT ON ban_changes BEGIN"
	" DELETE FROM ban_changes WHERE seq < NEW.seq; END;",
};

/* The event log's own schema (PATH-events), created when missing. */
static const char event_schema[] =
	"CREATE TABLE IF NOT EXISTS auth_events ("
	" id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
	" source_addr TEXT NOT NULL, source_port INTEGER NOT NULL, transport TEXT NOT NULL,"
	" method TEXT NOT NULL, aor TEXT NOT NULL, auth_user TEXT NOT NULL, realm TEXT NOT NULL,"
	" user_agent TEXT NOT NULL, cause TEXT NOT NULL, detail TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS auth_events_time ON auth_events(time_ms);"
	"CREATE INDEX IF NOT EXISTS auth_events_aor ON auth_events(aor);"
	"CREATE INDEX IF NOT EXISTS auth_events_user ON auth_events(auth_user, realm);";
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int sw__sq_err(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
	case SQLITE_NOMEM: return SW_ENOMEM;
	case SQLITE_CONSTRAINT: return SW_STORE_EEXIST;
	case SQLITE_TOOBIG: return SW_ETOOBIG;
	case SQLITE_CANTOPEN: return SW_ENOTFOUND;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: return SW_EPARSE;
	}
	return SW_EIO;
}

sqlite3_stmt *sw__sq_stmt(struct sq_conn *c, enum sq_stmt id)
{
	if (!c->st[id] && sqlite3_prepare_v3(c->db, sql[id], -1, SQLITE_PREPARE_PERSISTENT,
					     &c->st[id], NULL) != SQLITE_OK)
		return NULL;
	sqlite3_reset(c->st[id]);
	sqlite3_clear_bindings(c->st[id]);
	return c->st[id];
}

int sw__sq_run(struct sq_conn *c, enum sq_stmt id)
{
	sqlite3_stmt *s = sw__sq_stmt(c, id);
	if (!s)
		return SW_EIO;
	int rc = sqlite3_step(s);
	sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : sw__sq_err(rc);
}

void sw__sq_col(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	size_t n = t ? (size_t)sqlite3_column_bytes(s, i) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

int sw__sq_bind_text(sqlite3_stmt *s, int i, const char *text)
{
	return text ? sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC) : sqlite3_bind_null(s, i);
}

static int exec(sqlite3 *db, const char *q)
{
	return sw__sq_err(sqlite3_exec(db, q, NULL, NULL, NULL));
}

static int attach_events(sqlite3 *db, const char *path)
{
	char *ev = sqlite3_mprintf("%s-events", path);
	sqlite3_stmt *s = NULL;
	int rc = ev ? sqlite3_prepare_v2(db, "ATTACH DATABASE ?1 AS ev", -1, &s, NULL) : SQLITE_NOMEM;
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(s, 1, ev, -1, SQLITE_STATIC);
		rc = sqlite3_step(s);
	}
	sqlite3_finalize(s);
	sqlite3_free(ev);
	return sw__sq_err(rc);
}

int sw__sq_conn_open(const char *path, enum sq_role role, struct sq_conn **out)
{
	struct sq_conn *c = calloc(1, sizeof(*c));
	int err, flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	char *ev = NULL;
	if (!c)
		return SW_ENOMEM;
	if (role == SQ_EVENTS) {
		if (!(ev = sqlite3_mprintf("%s-events", path))) {
			free(c);
			return SW_ENOMEM;
		}
		flags |= SQLITE_OPEN_CREATE;
	}
	err = sw__sq_err(sqlite3_open_v2(ev ? ev : path, &c->db, flags, NULL));
	sqlite3_free(ev);
	if (err)
		goto out;
	sqlite3_busy_timeout(c->db, 10000);
	sqlite3_extended_result_codes(c->db, 0);
	/* journal_mode=WAL is persistent in the file; setting it needs a
	 * write lock only the first time. */
	/* journal_size_limit: once a checkpoint let the WAL restart, a file a
	 * load peak made large is cut back to 64 MiB */
	switch (role) {
	case SQ_WRITER:
		err = exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
				  "PRAGMA journal_size_limit=67108864; PRAGMA foreign_keys=ON;");
		break;
	case SQ_READER:
		err = attach_events(c->db, path);
		if (!err)
			err = exec(c->db, "PRAGMA query_only=1;");
		break;
	case SQ_EVENTS:
		/* nobody waits for an event: no fsync per commit (WAL with
		 * NORMAL survives a crash of the process; a power cut may take
		 * the last moments) */
		err = exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
				  "PRAGMA journal_size_limit=67108864;");
		if (!err)
			err = exec(c->db, event_schema);
		break;
	}
out:
	if (err) {
		sqlite3_close(c->db);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void sw__sq_conn_close(struct sq_conn *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < Q__COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	free(c);
}

static int user_version(sqlite3 *db, int *v)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE "
				    "type = 'table' AND name = 'schema_version'", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sw__sq_err(rc);
	rc = sqlite3_step(s);
	bool have = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return sw__sq_err(rc);
	*v = 0;
	if (!have)
		return 0;
	rc = sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sw__sq_err(rc);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW)
		*v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : sw__sq_err(rc);
}

int sw__sq_migrate(struct sq_conn *w, const char *path)
{
	struct sq_conn *c = w;
	int v = 0, err = attach_events(c->db, path);
	if (!err)
		err = exec(c->db, "BEGIN IMMEDIATE");
	if (err) {
		exec(c->db, "DETACH DATABASE ev");
		return err;
	}
	err = user_version(c->db, &v);
	if (!err && v > SCHEMA_VERSION)
		err = SW_EVERSION;
	if (!err && v == 0)
		err = exec(c->db, "CREATE TABLE schema_version (version INTEGER NOT NULL,"
				  " applied INTEGER NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER)))");
	for (; !err && v < SCHEMA_VERSION; v++) {
		char q[96];
		err = exec(c->db, migrations[v]);
		snprintf(q, sizeof(q), "INSERT INTO schema_version(version) VALUES (%d)", v + 1);
		if (!err)
			err = exec(c->db, q);
	}
	if (!err)
		err = exec(c->db, "COMMIT");
	if (err)
		exec(c->db, "ROLLBACK");
	/* the writer's transactions (BEGIN IMMEDIATE) must not lock the event log */
	exec(c->db, "DETACH DATABASE ev");
	return err;
}
