-- ImOrleans: grain state table and queries for AddAdoNetGrainStorage (PostgreSQL).
--
-- A grain's state is one row, found by (ServiceId, grain type, grain id). Orleans
-- hashes type and id to two integers for a narrow index; the full values are
-- compared as well, so hash collisions are harmless.
--
-- Version is the ETag. A write or clear must name the Version it last read
-- (NULL = "I saw no row") and fails without changing anything when that is
-- stale; Orleans then throws InconsistentStateException. How a failure is
-- reported to Orleans:
--   write, stale Version        -> returns the caller's own Version unchanged
--   write, row exists, NULL etag -> returns NULL
--   clear/delete, stale Version -> returns no row

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            integer      NOT NULL,
    GrainIdN0              bigint       NOT NULL,
    GrainIdN1              bigint       NOT NULL,
    GrainTypeHash          integer      NOT NULL,
    GrainTypeString        varchar(512) NOT NULL,
    GrainIdExtensionString varchar(512) NULL,
    ServiceId              varchar(150) NOT NULL,
    PayloadBinary          bytea        NULL,      -- NULL after ClearStateAsync
    ModifiedOn             timestamptz  NOT NULL DEFAULT now(),
    Version                integer      NULL
);

CREATE INDEX IF NOT EXISTS IX_OrleansStorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

-- Returns the new Version, or a value Orleans reads as a conflict (see top).
CREATE OR REPLACE FUNCTION orleans_storage_write(
    p_grain_id_hash   integer,
    p_grain_id_n0     bigint,
    p_grain_id_n1     bigint,
    p_grain_type_hash integer,
    p_grain_type      text,
    p_grain_id_ext    text,
    p_service_id      text,
    p_version         integer,
    p_payload         bytea)
RETURNS integer
LANGUAGE plpgsql
AS $$
DECLARE
    v_new integer;
BEGIN
    IF p_version IS NOT NULL THEN
        -- Concurrent updaters queue on the row lock; the loser re-checks
        -- Version after the winner commits and matches nothing.
        UPDATE OrleansStorage
           SET PayloadBinary = p_payload,
               Version = Version + 1,
               ModifiedOn = now()
         WHERE GrainIdHash = p_grain_id_hash
           AND GrainTypeHash = p_grain_type_hash
           AND GrainIdN0 = p_grain_id_n0
           AND GrainIdN1 = p_grain_id_n1
           AND GrainTypeString = p_grain_type
           AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
           AND ServiceId = p_service_id
           AND Version = p_version
        RETURNING Version INTO v_new;
        RETURN coalesce(v_new, p_version);
    END IF;

    -- First write of this grain. There is no unique key to lean on (the key
    -- columns are too wide for one), so two racing first writers (possible
    -- only in a split brain) are serialised on a transaction-scoped advisory
    -- lock; the second one then sees the first one's row and inserts nothing.
    PERFORM pg_advisory_xact_lock(p_grain_type_hash, p_grain_id_hash);

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
         GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT p_grain_id_hash, p_grain_id_n0, p_grain_id_n1, p_grain_type_hash, p_grain_type,
           p_grain_id_ext, p_service_id, p_payload, now(), 1
     WHERE NOT EXISTS (
        SELECT 1
          FROM OrleansStorage
         WHERE GrainIdHash = p_grain_id_hash
           AND GrainTypeHash = p_grain_type_hash
           AND GrainIdN0 = p_grain_id_n0
           AND GrainIdN1 = p_grain_id_n1
           AND GrainTypeString = p_grain_type
           AND GrainIdExtensionString IS NOT DISTINCT FROM p_grain_id_ext
           AND ServiceId = p_service_id)
    RETURNING Version INTO v_new;
    RETURN v_new;  -- NULL when a row already existed
END
$$;

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

('WriteToStorageKey', $q$
    SELECT orleans_storage_write(
        @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
        @GrainIdExtensionString, @ServiceId, @GrainStateVersion, @PayloadBinary)
        AS NewGrainStateVersion;
$q$),

-- No row: Orleans starts from a fresh state with a NULL ETag.
('ReadFromStorageKey', $q$
    SELECT PayloadBinary, Version
      FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId;
$q$),

-- ClearStateAsync (default): keep the row and its Version sequence, drop the payload.
('ClearStorageKey', $q$
    UPDATE OrleansStorage
       SET PayloadBinary = NULL,
           Version = Version + 1,
           ModifiedOn = now()
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
$q$),

-- ClearStateAsync with DeleteStateOnClear = true: remove the row. Orleans
-- expects "old Version + 1" back as the sign of success.
('DeleteStorageKey', $q$
    DELETE FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS NOT DISTINCT FROM @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
$q$)

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = EXCLUDED.QueryText;
