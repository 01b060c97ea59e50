-- FrontPage, SSL and MySQL per user (USR-5, USR-6, USR-7). The agent reads
-- these rows when the change journal names the user.

-- FrontPage/WebDAV publishing credentials (USR-5, UP-5): a row exists while
-- FrontPage is on. The password is only kept as an argon2id hash, which is
-- all the publishing server needs to check it.
CREATE TABLE frontpage (
	account_id    BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	login         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	updated_at    BIGINT NOT NULL
);

-- A user's own certificate (USR-6): key (PKCS #8), certificate and chain as
-- canonical PEM re-encoded from the parsed objects, plus what the pages
-- show, so that no page parses or ever sends the key.
CREATE TABLE ssl_certs (
	account_id  BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	key_pem     TEXT NOT NULL,
	cert_pem    TEXT NOT NULL,
	chain_pem   TEXT NOT NULL DEFAULT '',
	self_signed INTEGER NOT NULL DEFAULT 0,
	subject     TEXT NOT NULL,
	issuer      TEXT NOT NULL,
	dns_names   TEXT NOT NULL DEFAULT '',
	key_type    TEXT NOT NULL DEFAULT '',
	fingerprint TEXT NOT NULL DEFAULT '',
	not_before  BIGINT NOT NULL,
	not_after   BIGINT NOT NULL,
	created_at  BIGINT NOT NULL
);

-- Users whose databases accept connections from external hosts (USR-7); a
-- row exists while access is on.
CREATE TABLE mysql_external (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL
);

-- The SSL list starts from the few exclusive addresses and their domains.
CREATE INDEX IF NOT EXISTS domains_ip ON domains (ip_id);
