UPDATE core.suppliers
SET contact_email = coalesce(lower($2), contact_email),
    contact_phone = coalesce($3, contact_phone),
    website = coalesce($4, website),
    payment_terms = coalesce($5, payment_terms),
    updated_at = now()
WHERE id = $1
