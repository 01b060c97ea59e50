-- Circulars (USR-4): a reseller's mail to its users. A circular starts as a
-- draft (compose, pick recipients), is queued with one row per recipient
-- and is sent in the background by the serve process, one recipient at a
-- time, so that a restart resumes where it stopped.
CREATE TABLE circulars (
	id          {{id}},
	reseller_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	from_name   TEXT NOT NULL DEFAULT '',
	from_addr   TEXT NOT NULL,
	subject     TEXT NOT NULL,
	body        TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'sending', 'done')),
	-- the draft's selection: 1 = every user with an e-mail address except
	-- those in circular_picks, 0 = only those in circular_picks; so that
	-- "all" over 10,000 users is one flag, not 10,000 rows
	select_all  INTEGER NOT NULL DEFAULT 1,
	created_at  BIGINT NOT NULL,
	queued_at   BIGINT NOT NULL DEFAULT 0,
	finished_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX circulars_reseller ON circulars (reseller_id, id);

-- The exceptions to a draft's select_all. No foreign key to accounts: a
-- user deleted meanwhile is simply not a candidate any more.
CREATE TABLE circular_picks (
	circular_id BIGINT NOT NULL REFERENCES circulars (id) ON DELETE CASCADE,
	user_id     BIGINT NOT NULL,
	PRIMARY KEY (circular_id, user_id)
);

-- One row per recipient of a queued circular: login, name and address as
-- they were when it was queued, and the result. "sending" is written before
-- the mail goes to the relay; a row left in "sending" by a process that
-- died is retried once after a lease, never twice.
CREATE TABLE circular_recipients (
	circular_id BIGINT NOT NULL REFERENCES circulars (id) ON DELETE CASCADE,
	user_id     BIGINT NOT NULL,
	login       TEXT NOT NULL,
	name        TEXT NOT NULL DEFAULT '',
	company     TEXT NOT NULL DEFAULT '',
	email       TEXT NOT NULL,
	status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
	attempts    INTEGER NOT NULL DEFAULT 0,
	-- the relay's reply on failure, or a catalogue key (error_key) when
	-- Kontor itself gave up
	error       TEXT NOT NULL DEFAULT '',
	error_key   TEXT NOT NULL DEFAULT '',
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (circular_id, user_id)
);
CREATE INDEX circular_recipients_queue ON circular_recipients (status, circular_id, user_id);
-- counts per status for the progress page, without reading every row
CREATE INDEX circular_recipients_status ON circular_recipients (circular_id, status);
