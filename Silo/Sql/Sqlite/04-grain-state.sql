-- ImOrleans: grain state of the embedded server (SqliteGrainStorage), in Orleans' binary format.
--
-- One row per grain and state name. Version is the ETag: a write names the version it read, and a write that
-- names another changes nothing and fails. A cleared state keeps its row with a NULL payload, so that
-- OrleansStorage (where the Orleans ADO.NET provider kept grain state before; see 03-persistence) is not
-- consulted for that grain again.

CREATE TABLE IF NOT EXISTS grain_state
(
    grain_id   TEXT    NOT NULL,
    state_name TEXT    NOT NULL,
    payload    BLOB    NULL,
    version    INTEGER NOT NULL,
    PRIMARY KEY (grain_id, state_name)
) WITHOUT ROWID;
