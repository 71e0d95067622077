-- A new brand; its code defaults to the rule 003 used for existing ones.
INSERT INTO core.brand (name, code, website)
VALUES (btrim($1), coalesce($2, core.brand_code_base($1)), $3)
RETURNING code
