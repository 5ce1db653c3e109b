"""The audit's PL/pgSQL: the row trigger, the hash chain and the refusals (installed by audit.py).

Every function that writes to the audit runs SECURITY DEFINER as the owner of the tables, with a
fixed search_path, so the application's role needs no privilege on the audit beyond reading it
(and inserting into the access log, which it writes). The owner is the migrating role; the
application's least-privilege role (pod/foundation/db_role.py) owns nothing and cannot replace,
drop or disable any of this.

The chain (both audit tables, one chain each):
1. A BEFORE INSERT row trigger takes a transaction-scoped advisory lock for the table's chain,
   so appends are serialised: the next writer waits until this transaction ends.
2. It reads the head (the row with the highest `seq`) with a fresh snapshot, which under READ
   COMMITTED includes every chain row committed before the lock was granted.
3. It sets `seq` = head + 1, `prev_hash` = the head's `row_hash`, stamps the time and the
   database login role (whatever the inserting statement said), and computes `row_hash` over
   the whole row (pod_auditevent_hash / pod_recordaccess_hash). A unique index on `seq` turns a
   stale read (a REPEATABLE READ transaction) into an error instead of a fork.
`manage.py audit_verify` recomputes every hash and follows the links (audit_chain.py).
"""

from __future__ import annotations

# Advisory lock keys, one per chain ("POD" + 1, "POD" + 2). Held until the transaction ends.
EVENT_CHAIN_LOCK = 0x504F4401
ACCESS_CHAIN_LOCK = 0x504F4402

AUDIT_ROW_FUNCTION = """
CREATE OR REPLACE FUNCTION pod_audit_row() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {schema}, pg_catalog AS $$
DECLARE
    _redact text[] := TG_ARGV[0]::text[];
    _ignore text[] := TG_ARGV[1]::text[];
    _old jsonb;
    _new jsonb;
    _changed jsonb := '[]'::jsonb;
    _ctx jsonb;
    _ctx_id uuid;
    _user bigint;
BEGIN
    IF TG_OP <> 'INSERT' THEN _old := to_jsonb(OLD); END IF;
    IF TG_OP <> 'DELETE' THEN _new := to_jsonb(NEW); END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT COALESCE(jsonb_agg(n.key ORDER BY n.key), '[]'::jsonb) INTO _changed
          FROM jsonb_each(_new) AS n
         WHERE n.value IS DISTINCT FROM (_old -> n.key) AND NOT (n.key = ANY(_ignore));
        IF _changed = '[]'::jsonb THEN RETURN NULL; END IF;
    END IF;
    -- Secrets (password hashes, authenticator keys, backup codes, link-token hashes) are never
    -- copied; a change to one is still listed by name in changed_fields.
    _old := _old - _redact;
    _new := _new - _redact;
    BEGIN
        _ctx := NULLIF(current_setting('pghistory.context_metadata', true), '')::jsonb;
        _ctx_id := NULLIF(current_setting('pghistory.context_id', true), '')::uuid;
    EXCEPTION WHEN others THEN
        -- A malformed context must not lose the event: keep it without the "who".
        _ctx := NULL;
        _ctx_id := NULL;
    END;
    IF jsonb_typeof(_ctx -> 'user') = 'number' THEN _user := (_ctx ->> 'user')::bigint; END IF;
    INSERT INTO pod_auditevent (at, table_name, row_id, operation, changed_fields, before, after,
                                context, context_id, user_id, db_user, txid)
    VALUES (clock_timestamp(), TG_TABLE_NAME, COALESCE(_new ->> 'id', _old ->> 'id', ''), TG_OP,
            _changed, _old, _new, _ctx, _ctx_id, _user, session_user, txid_current());
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION pod_audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The POD audit is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""

# The canonical text of a row is a JSON array of its columns (jsonb's text form is the same for
# equal values); times in UTC to the microsecond, so the session's TimeZone does not matter.
HASH_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pod_auditevent_hash(e pod_auditevent) RETURNS text
LANGUAGE sql STABLE SET search_path = {schema}, pg_catalog AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        e.id, e.seq, e.prev_hash,
        to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        e.table_name, e.row_id, e.operation, e.changed_fields, e.before, e.after,
        e.context, e.context_id, e.user_id, e.db_user, e.txid
    )::text, 'UTF8')), 'hex')
$$;

CREATE OR REPLACE FUNCTION pod_recordaccess_hash(a pod_recordaccess) RETURNS text
LANGUAGE sql STABLE SET search_path = {schema}, pg_catalog AS $$
    SELECT encode(sha256(convert_to(jsonb_build_array(
        a.id, a.seq, a.prev_hash,
        to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        a.user_id, a.service_user_id, a.what, a.view_name, a.db_user
    )::text, 'UTF8')), 'hex')
$$;
"""

CHAIN_FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION pod_auditevent_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_catalog AS $$
DECLARE
    _seq bigint;
    _prev text;
BEGIN
    PERFORM pg_advisory_xact_lock({EVENT_CHAIN_LOCK});
    SELECT seq, row_hash INTO _seq, _prev FROM pod_auditevent
     WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    NEW.seq := COALESCE(_seq, 0) + 1;
    NEW.prev_hash := COALESCE(_prev, '');
    NEW.at := clock_timestamp();
    NEW.db_user := session_user;
    NEW.row_hash := pod_auditevent_hash(NEW);
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION pod_recordaccess_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = {{schema}}, pg_catalog AS $$
DECLARE
    _seq bigint;
    _prev text;
BEGIN
    PERFORM pg_advisory_xact_lock({ACCESS_CHAIN_LOCK});
    SELECT seq, row_hash INTO _seq, _prev FROM pod_recordaccess
     WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1;
    NEW.seq := COALESCE(_seq, 0) + 1;
    NEW.prev_hash := COALESCE(_prev, '');
    -- The application cannot backdate a look or lend it another database role.
    NEW.at := clock_timestamp();
    NEW.db_user := session_user;
    NEW.row_hash := pod_recordaccess_hash(NEW);
    RETURN NEW;
END;
$$;
"""

# (table, chain function) for the two audit tables.
CHAINED_TABLES = (
    ("pod_auditevent", "pod_auditevent_chain"),
    ("pod_recordaccess", "pod_recordaccess_chain"),
)
