-- A brand whose name is the same as $1 ignoring case and spacing (003's rule).
SELECT name, code FROM core.brand WHERE core.brand_key(name) = core.brand_key($1)
