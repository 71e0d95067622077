ALTER TABLE core.brand ADD CONSTRAINT brand_code_key UNIQUE USING INDEX brand_code_uniq;
