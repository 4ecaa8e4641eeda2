-- Calendar generation jobs: what clients see of a run (Hangfire keeps the queue in its own schema). One row per
-- started job; at most one queued or running job per user; an Idempotency-Key belongs to its user.
CREATE TABLE calendar_jobs (
    session_id        uuid PRIMARY KEY,
    user_id           text NOT NULL,
    strategy_id       bigint,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'completed', 'failed', 'cancelled')),
    request           jsonb NOT NULL,
    request_hash      text NOT NULL,
    idempotency_key   text,
    callback_url      text,
    attempt           integer NOT NULL DEFAULT 0,
    current_step      integer NOT NULL DEFAULT 0,
    step_name         text,
    step_results      jsonb NOT NULL DEFAULT '[]'::jsonb,
    calendar_id       bigint REFERENCES generated_calendars (id) ON DELETE SET NULL,
    error             text,
    -- W3C traceparent of the request that started the job: the job's span links to it.
    traceparent       text,
    node              text,
    webhook_status    text CHECK (webhook_status IN ('pending', 'delivered', 'failed')),
    webhook_attempts  integer NOT NULL DEFAULT 0,
    webhook_last_status_code integer,
    webhook_id        text,
    webhook_last_attempt_at timestamptz,
    webhook_event     jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX ux_calendar_jobs_active_per_user ON calendar_jobs (user_id) WHERE status IN ('queued', 'running');
CREATE UNIQUE INDEX ux_calendar_jobs_user_idempotency_key ON calendar_jobs (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX ix_calendar_jobs_calendar ON calendar_jobs (calendar_id) WHERE calendar_id IS NOT NULL;
CREATE INDEX ix_calendar_jobs_finished ON calendar_jobs (finished_at) WHERE finished_at IS NOT NULL;

-- Every change of a job is announced after its transaction commits: the progress streams of every node LISTEN here
-- instead of polling.
CREATE FUNCTION notify_calendar_job() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('calendar_job_events', NEW.session_id::text);
    RETURN NULL;
END;
$$;

CREATE TRIGGER trg_calendar_jobs_notify AFTER INSERT OR UPDATE ON calendar_jobs
    FOR EACH ROW EXECUTE FUNCTION notify_calendar_job();
