-- Accounts of all three tiers share one table so that one login page and
-- one unique index serve them all (ROLE-1).
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('user', 0);
INSERT INTO counters (name, value) VALUES ('reseller', 0);

CREATE TABLE accounts (
	id            {{id}},
	login         TEXT NOT NULL UNIQUE,
	role          TEXT NOT NULL CHECK (role IN ('admin', 'reseller', 'user')),
	parent_id     BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
	password_hash TEXT NOT NULL,
	status        TEXT NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'locked')),
	language      TEXT NOT NULL DEFAULT 'en',
	design        TEXT NOT NULL DEFAULT 'default',
	number        BIGINT NOT NULL DEFAULT 0,
	is_default    INTEGER NOT NULL DEFAULT 0,
	name          TEXT NOT NULL DEFAULT '',
	company       TEXT NOT NULL DEFAULT '',
	street        TEXT NOT NULL DEFAULT '',
	zip           TEXT NOT NULL DEFAULT '',
	city          TEXT NOT NULL DEFAULT '',
	country       TEXT NOT NULL DEFAULT '',
	email         TEXT NOT NULL DEFAULT '',
	phone         TEXT NOT NULL DEFAULT '',
	custom1       TEXT NOT NULL DEFAULT '',
	custom2       TEXT NOT NULL DEFAULT '',
	custom3       TEXT NOT NULL DEFAULT '',
	show_fields   TEXT NOT NULL DEFAULT '',
	-- login, name, e-mail and domains (punycode and Unicode), lower-case:
	-- one column to scan for the user list's search, rebuilt by
	-- refreshSearch whenever one of them changes
	search_text   TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);
CREATE INDEX accounts_parent ON accounts (parent_id, role, number, id);
CREATE INDEX accounts_role ON accounts (role, number);

-- A reseller's limit per resource (ROLE-5).
CREATE TABLE reseller_limits (
	account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	resource        TEXT NOT NULL,
	value           BIGINT NOT NULL,
	mode            TEXT NOT NULL CHECK (mode IN ('maximum', 'hard')),
	allow_unlimited INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (account_id, resource)
);

-- A user's limit per resource (LIM-1).
CREATE TABLE user_limits (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	resource   TEXT NOT NULL,
	value      BIGINT NOT NULL,
	PRIMARY KEY (account_id, resource)
);

-- Service levels of users, and for resellers the highest level they may
-- hand out (SVC-1, ROLE-5).
CREATE TABLE services (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	service    TEXT NOT NULL,
	level      INTEGER NOT NULL,
	PRIMARY KEY (account_id, service)
);

-- Per reseller and resource: the sum of finite limits handed out, the
-- number of users with -1, and the sum of measured use. Kept in the same
-- transaction as every change of a user's limits or use, so the overview and
-- the limit checks read 13 rows instead of aggregating every user.
CREATE TABLE reseller_totals (
	reseller_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	resource    TEXT NOT NULL,
	allocated   BIGINT NOT NULL DEFAULT 0,
	unlimited   BIGINT NOT NULL DEFAULT 0,
	used        BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (reseller_id, resource)
);

-- Measured use (storage, traffic) per user and resource, written by the
-- stats collector; object counts are counted where the objects live.
CREATE TABLE usage (
	account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	resource    TEXT NOT NULL,
	used        BIGINT NOT NULL,
	measured_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, resource)
);

-- Per-account settings (custom field labels, …) and server settings.
CREATE TABLE account_settings (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	PRIMARY KEY (account_id, key)
);
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE ip_addresses (
	id          {{id}},
	address     TEXT NOT NULL UNIQUE,
	shared      INTEGER NOT NULL DEFAULT 1,
	reseller_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL
);

CREATE TABLE domains (
	id         {{id}},
	user_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT NOT NULL UNIQUE,
	-- the Unicode form, lower-case, so that a search for "bäckerei" finds
	-- xn--mller-bckerei-hfb76a.de
	display    TEXT NOT NULL DEFAULT '',
	dns        INTEGER NOT NULL DEFAULT 1,
	dnr        INTEGER NOT NULL DEFAULT 0,
	ip_id      BIGINT REFERENCES ip_addresses (id) ON DELETE SET NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX domains_user ON domains (user_id);

CREATE TABLE sessions (
	token_hash TEXT PRIMARY KEY,
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	acting_id  BIGINT NOT NULL DEFAULT 0,
	csrf       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Failed logins per account and per address (login throttling).
CREATE TABLE login_failures (
	key          TEXT PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start BIGINT NOT NULL,
	locked_until BIGINT NOT NULL
);

-- Errors and notices shown on an owner's Messages page (GEN-4).
CREATE TABLE messages (
	id         {{id}},
	owner_id   BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL CHECK (kind IN ('error', 'notice')),
	subject    TEXT NOT NULL DEFAULT '',
	msg_key    TEXT NOT NULL,
	args       TEXT NOT NULL DEFAULT '[]',
	created_at BIGINT NOT NULL
);
CREATE INDEX messages_owner ON messages (owner_id, kind, id);

-- The change journal: every change to a user's desired state appends a row
-- so that the agent wakes and applies just that user.
CREATE TABLE changes (
	id         {{id}},
	account_id BIGINT NOT NULL,
	login      TEXT NOT NULL,
	what       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
