-- Issue 22: a write evicts only the answers it changes. The version trigger's notification therefore says what kind of
-- row changed.
--
-- Payload: '<transaction id>.<kind>:<user id>' (0007's was '<transaction id>:<user id>'; a listener reads a payload
-- without the '.<kind>' part as "anything of the user may have changed").
--   kind 's': a strategy or its activation (the active strategy, the comprehensive data and the summaries change);
--        'd': any other source row: profile, gap analysis, recommendation, analytics (the comprehensive data and the
--        summaries change, the active strategy does not).
-- One notification per user and kind per transaction: PostgreSQL folds equal payloads of one transaction into one (0007
-- sent one per user and transaction, which can no longer say every kind a transaction changed).
CREATE OR REPLACE FUNCTION bump_user_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed text[];
    uid     text;
    channel text := coalesce(nullif(current_setting('content_planning.change_channel', true), ''), 'user_data_changed');
    xact    xid8 := pg_current_xact_id();
    kind    text := CASE WHEN TG_TABLE_NAME IN ('content_strategies', 'strategy_activation_status') THEN 's' ELSE 'd' END;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        changed := array_append(changed, OLD.user_id::text);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
        changed := array_append(changed, NEW.user_id::text);
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;

    FOREACH uid IN ARRAY changed LOOP
        PERFORM pg_notify(channel, xact::text || '.' || kind || ':' || uid);
        INSERT INTO user_data_versions AS v (user_id) VALUES (uid)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
    END LOOP;
    RETURN NULL;
END;
$$;
