-- An Idempotency-Key belongs to the user who sent it: two users may use the same key without seeing each other's
-- calendars or a 422 (the original schema made the key unique across all users).
ALTER TABLE generated_calendars DROP CONSTRAINT IF EXISTS generated_calendars_idempotency_key_key;
CREATE UNIQUE INDEX ux_generated_calendars_user_idempotency_key ON generated_calendars (user_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
