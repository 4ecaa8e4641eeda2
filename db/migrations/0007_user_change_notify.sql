-- Issue 15: the version trigger also announces the change, so every node can evict the user's cached answers even for
-- writes made outside the API (psql, imports, other services). PostgreSQL delivers a NOTIFY only after the writing
-- transaction commits and drops it on rollback, which is exactly when the caches must (and must not) forget.
--
-- Channel: 'user_data_changed', or the database setting content_planning.change_channel when an operator sets one
-- (ALTER DATABASE ... SET content_planning.change_channel = '...'); CacheCoherence__Channel must name the same channel.
-- Payload: '<transaction id>:<user id>'. The transaction id makes each notification distinguishable across nodes, so
-- the nodes can agree on which one of them removes the Redis (L2) entries.
--
-- One notification per user per transaction: only the first bump of the user's version row in this transaction
-- notifies. A row already bumped by this transaction carries its xid as xmin (a bump inside a later savepoint carries
-- the subtransaction's xid and notifies again, which PostgreSQL folds into one since channel and payload are equal).
CREATE OR REPLACE FUNCTION bump_user_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    changed text[];
    uid     text;
    channel text := coalesce(nullif(current_setting('content_planning.change_channel', true), ''), 'user_data_changed');
    xact    xid8 := pg_current_xact_id();
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
        IF NOT EXISTS (SELECT 1 FROM user_data_versions WHERE user_id = uid AND xmin = xact::xid) THEN
            PERFORM pg_notify(channel, xact::text || ':' || uid);
        END IF;
        INSERT INTO user_data_versions AS v (user_id) VALUES (uid)
        ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
    END LOOP;
    RETURN NULL;
END;
$$;
