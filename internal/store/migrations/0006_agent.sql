-- What the privileged agent needs beyond the panel's own data (SYS-1..3).

-- Daemon-side credentials of an account, in each daemon's own format
-- (DESIGN rule 5). The web process derives them while it holds the
-- plaintext (creation, password change); the agent only copies them into
-- the daemon. kind: 'mysql' (mysql_native_password "*HEX", the user's
-- first database login), 'htpasswd' (bcrypt, the Webalizer pages' basic
-- auth for the user and its reseller).
CREATE TABLE account_secrets (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (account_id, kind)
);

-- A user's MySQL databases (USR-7); the count is the "used" of mysql_dbs.
CREATE TABLE databases (
	id         {{id}},
	user_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL
);
CREATE INDEX databases_user ON databases (user_id);

-- A user's cron jobs, run as the user (SYS-1); the count is the "used"
-- of cron_jobs.
CREATE TABLE cron_jobs (
	id         {{id}},
	user_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	schedule   TEXT NOT NULL,
	command    TEXT NOT NULL,
	enabled    INTEGER NOT NULL DEFAULT 1,
	created_at BIGINT NOT NULL
);
CREATE INDEX cron_jobs_user ON cron_jobs (user_id, id);

-- The agent's last result per user: applied, or failed with the daemon's
-- own text. No foreign key: the row of a deleted user stays until the
-- agent has removed the user from the system and says so.
CREATE TABLE agent_status (
	account_id BIGINT PRIMARY KEY,
	login      TEXT NOT NULL,
	state      TEXT NOT NULL CHECK (state IN ('applied', 'failed', 'removed')),
	detail     TEXT NOT NULL DEFAULT '',
	change_id  BIGINT NOT NULL DEFAULT 0,
	applied_at BIGINT NOT NULL
);
