ALTER TABLE core.brand ADD CONSTRAINT brand_code_key UNIQUE (code); -- expect: unique-without-index
