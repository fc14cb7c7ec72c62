-- ImOrleans: grain state table and queries for AddAdoNetGrainStorage (SQLite).
--
-- Same contract as the PostgreSQL version (see Sql/PostgreSQL/03-persistence.sql):
-- a row per (ServiceId, grain type, grain id), Version is the ETag, and a
-- stale Version makes a write or clear change nothing. Here a conflict shows
-- up as "no row returned", which Orleans also reads as a conflict.
--
-- Needs SQLite 3.35+ (RETURNING); Microsoft.Data.Sqlite bundles a newer one.
-- "a IS b" is SQLite's NULL-safe equality (GrainIdExtensionString may be NULL).

CREATE TABLE IF NOT EXISTS OrleansStorage
(
    GrainIdHash            INTEGER NOT NULL,
    GrainIdN0              INTEGER NOT NULL,
    GrainIdN1              INTEGER NOT NULL,
    GrainTypeHash          INTEGER NOT NULL,
    GrainTypeString        TEXT    NOT NULL,
    GrainIdExtensionString TEXT    NULL,
    ServiceId              TEXT    NOT NULL,
    PayloadBinary          BLOB    NULL,      -- NULL after ClearStateAsync
    ModifiedOn             TEXT    NOT NULL,  -- UTC, informational only
    Version                INTEGER NULL
);

CREATE INDEX IF NOT EXISTS IX_OrleansStorage ON OrleansStorage (GrainIdHash, GrainTypeHash);

INSERT INTO OrleansQuery (QueryKey, QueryText) VALUES

-- Two statements, at most one of which touches a row: the UPDATE when the
-- grain names a Version, the INSERT when it names none and no row exists yet.
-- Each is atomic on its own (SQLite takes the write lock for the whole
-- statement), so a racing first write cannot produce a duplicate row.
('WriteToStorageKey', '
    UPDATE OrleansStorage
       SET PayloadBinary = @PayloadBinary,
           Version = Version + 1,
           ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
     WHERE @GrainStateVersion IS NOT NULL
       AND GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;

    INSERT INTO OrleansStorage
        (GrainIdHash, GrainIdN0, GrainIdN1, GrainTypeHash, GrainTypeString,
         GrainIdExtensionString, ServiceId, PayloadBinary, ModifiedOn, Version)
    SELECT @GrainIdHash, @GrainIdN0, @GrainIdN1, @GrainTypeHash, @GrainTypeString,
           @GrainIdExtensionString, @ServiceId, @PayloadBinary,
           strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now''), 1
     WHERE @GrainStateVersion IS NULL
       AND NOT EXISTS (
           SELECT 1
             FROM OrleansStorage
            WHERE GrainIdHash = @GrainIdHash
              AND GrainTypeHash = @GrainTypeHash
              AND GrainIdN0 = @GrainIdN0
              AND GrainIdN1 = @GrainIdN1
              AND GrainTypeString = @GrainTypeString
              AND GrainIdExtensionString IS @GrainIdExtensionString
              AND ServiceId = @ServiceId)
    RETURNING Version AS NewGrainStateVersion;
'),

('ReadFromStorageKey', '
    SELECT PayloadBinary, Version
      FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS @GrainIdExtensionString
       AND ServiceId = @ServiceId;
'),

('ClearStorageKey', '
    UPDATE OrleansStorage
       SET PayloadBinary = NULL,
           Version = Version + 1,
           ModifiedOn = strftime(''%Y-%m-%dT%H:%M:%fZ'', ''now'')
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version AS NewGrainStateVersion;
'),

-- Used only with DeleteStateOnClear = true; success is "old Version + 1".
('DeleteStorageKey', '
    DELETE FROM OrleansStorage
     WHERE GrainIdHash = @GrainIdHash
       AND GrainTypeHash = @GrainTypeHash
       AND GrainIdN0 = @GrainIdN0
       AND GrainIdN1 = @GrainIdN1
       AND GrainTypeString = @GrainTypeString
       AND GrainIdExtensionString IS @GrainIdExtensionString
       AND ServiceId = @ServiceId
       AND Version = @GrainStateVersion
    RETURNING Version + 1 AS NewGrainStateVersion;
')

ON CONFLICT (QueryKey) DO UPDATE SET QueryText = excluded.QueryText;
