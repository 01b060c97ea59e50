-- Templates (TPL-2): a reseller's named sets of limits and services. Users
-- created from a template get a copy in user_limits and services, so no
-- row here is ever referenced by a user.
CREATE TABLE templates (
	id          {{id}},
	reseller_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name        TEXT NOT NULL,
	-- the lower-case name: unique per reseller, so that two entries of the
	-- drop-down never differ only in case
	name_key    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	UNIQUE (reseller_id, name_key)
);

CREATE TABLE template_limits (
	template_id BIGINT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	resource    TEXT NOT NULL,
	value       BIGINT NOT NULL,
	PRIMARY KEY (template_id, resource)
);

CREATE TABLE template_services (
	template_id BIGINT NOT NULL REFERENCES templates (id) ON DELETE CASCADE,
	service     TEXT NOT NULL,
	level       INTEGER NOT NULL,
	PRIMARY KEY (template_id, service)
);

-- Registration mails (TPL-3): one per template, and template_id 0 for the
-- reseller's default ("no template / individual setting"). template_id has
-- no foreign key because of that 0; DeleteTemplates removes the row of a
-- template it deletes.
CREATE TABLE mail_templates (
	reseller_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	template_id BIGINT NOT NULL,
	from_name   TEXT NOT NULL DEFAULT '',
	from_addr   TEXT NOT NULL DEFAULT '',
	subject     TEXT NOT NULL,
	body        TEXT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (reseller_id, template_id)
);
