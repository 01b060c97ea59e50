-- Traffic and storage statistics (STA-2, STA-3), written by the collector
-- (kontor stats collect / du).

-- Traffic per user and month (yyyymm), split by the server that measured
-- it; bytes is the sum of the three sources. days holds the same figures
-- per day of the month ("d:web_bytes,web_hits,ftp_bytes,ftp_hits,
-- mail_bytes,mail_hits;…", days without traffic left out): one row per
-- user and month instead of thirty keeps a run over a month of a
-- thousand sites at a thousand row writes, and a user's daily chart is
-- one row.
CREATE TABLE traffic_monthly (
	account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	month      INTEGER NOT NULL,
	web_bytes  BIGINT NOT NULL DEFAULT 0,
	web_hits   BIGINT NOT NULL DEFAULT 0,
	ftp_bytes  BIGINT NOT NULL DEFAULT 0,
	ftp_hits   BIGINT NOT NULL DEFAULT 0,
	mail_bytes BIGINT NOT NULL DEFAULT 0,
	mail_hits  BIGINT NOT NULL DEFAULT 0,
	bytes      BIGINT NOT NULL DEFAULT 0,
	days       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (account_id, month)
);
CREATE INDEX traffic_monthly_month ON traffic_monthly (month, bytes);

-- Traffic of all users of a reseller per day (yyyymmdd), kept in step in
-- the same transaction: the reseller's summary per month and its chart
-- per day read a few rows, not every user's. It keeps the traffic of
-- users deleted since: that traffic was served.
CREATE TABLE traffic_reseller_daily (
	reseller_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	day         INTEGER NOT NULL,
	web_bytes   BIGINT NOT NULL DEFAULT 0,
	web_hits    BIGINT NOT NULL DEFAULT 0,
	ftp_bytes   BIGINT NOT NULL DEFAULT 0,
	ftp_hits    BIGINT NOT NULL DEFAULT 0,
	mail_bytes  BIGINT NOT NULL DEFAULT 0,
	mail_hits   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (reseller_id, day)
);

-- Traffic no user was found for: a vhost without a domain in the panel,
-- an FTP login that is no user. Reported, never dropped silently.
CREATE TABLE traffic_unassigned (
	day    INTEGER NOT NULL,
	source TEXT NOT NULL CHECK (source IN ('web', 'ftp', 'mail')),
	name   TEXT NOT NULL,
	bytes  BIGINT NOT NULL DEFAULT 0,
	hits   BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (day, source, name)
);

-- Where the collector stopped in each log file. A configured path has a
-- row for the file it names and, after a rename rotation, one for the
-- rotated file (path.1) while that may still receive late lines. A file
-- is known by device and inode plus a hash of its first fp_len bytes
-- (an inode number can be reused; a file truncated in place keeps its
-- inode but not its first bytes).
CREATE TABLE stats_offsets (
	path       TEXT NOT NULL,
	dev        BIGINT NOT NULL,
	inode      BIGINT NOT NULL,
	pos        BIGINT NOT NULL,
	size       BIGINT NOT NULL,
	fp_len     INTEGER NOT NULL,
	fp         TEXT NOT NULL,
	is_current INTEGER NOT NULL DEFAULT 1,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (path, dev, inode)
);

-- Lines that did not parse, per log file and day of the run.
CREATE TABLE stats_malformed (
	path  TEXT NOT NULL,
	day   INTEGER NOT NULL,
	lines BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (path, day)
);

-- One row per collector run that stored something.
CREATE TABLE stats_runs (
	id          {{id}},
	finished_at BIGINT NOT NULL,
	lines       BIGINT NOT NULL,
	bytes       BIGINT NOT NULL,
	malformed   BIGINT NOT NULL,
	unassigned  BIGINT NOT NULL
);

-- Bumped by every run that commits: a run that started from older
-- offsets than the stored ones must not add its sums (two runs at once).
INSERT INTO counters (name, value) VALUES ('stats_run', 0);
