-- GenerateCalendar's Idempotency-Key: the key is already unique on generated_calendars; the hash of the request body
-- tells a repeat (same body: answer the stored calendar) from a misuse (different body: 422).
ALTER TABLE generated_calendars ADD COLUMN request_hash text;
