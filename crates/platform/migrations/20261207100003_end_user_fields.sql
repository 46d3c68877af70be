-- The values of a tenant's custom user fields (settings `user_fields`), one JSON object per
-- end user, sealed at rest like the email (personal data). NULL: none.
ALTER TABLE end_users ADD COLUMN fields TEXT;
