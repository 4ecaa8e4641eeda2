-- Issue 24: 0011 moved the per-user byte bound into service_settings (read through max_user_source_bytes(), since the
-- connection startup parameter it used to arrive in does not pass PgBouncer), and 0012 then redefined the two trigger
-- functions that enforce the bound with the old per-connection lookup. Point both at max_user_source_bytes() again,
-- whatever else their bodies say: the lookup expression is replaced in each function's current definition.
DO $$
DECLARE
    old_lookup constant text := $q$coalesce(nullif(current_setting('content_planning.max_user_source_bytes', true), '')::bigint, 16777216)$q$;
    fn text;
    definition text;
BEGIN
    FOREACH fn IN ARRAY ARRAY['enforce_user_source_bytes()', 'enforce_calendar_event_limits()'] LOOP
        definition := pg_get_functiondef(fn::regprocedure);
        IF position(old_lookup IN definition) = 0 THEN
            RAISE EXCEPTION 'function % does not read the bound the way migration 0012 left it', fn;
        END IF;
        EXECUTE replace(definition, old_lookup, 'max_user_source_bytes()');
    END LOOP;
END;
$$;
