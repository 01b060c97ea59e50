-- The user page's "waiting for the server" looks up a user's newest
-- journal row; the agent's pruning keeps the journal short, this keeps the
-- lookup cheap whatever its length.
CREATE INDEX changes_account ON changes (account_id, id);
