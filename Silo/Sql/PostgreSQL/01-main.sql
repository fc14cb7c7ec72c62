-- ImOrleans: query catalogue for the Orleans ADO.NET providers (PostgreSQL).
--
-- The providers never carry SQL of their own. At start-up each one runs
--     SELECT QueryKey, QueryText FROM OrleansQuery
-- and afterwards executes the stored text for each operation, binding fixed
-- @-parameter names and reading fixed result column names. The later scripts
-- (02-clustering, 03-persistence, 04-reminders) fill this table; every script
-- is safe to run again on a database that already has the schema.
--
-- Providers cache the catalogue when they start: a silo picks up changed query
-- text only after a restart.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  varchar(64) NOT NULL PRIMARY KEY,
    QueryText text        NOT NULL
);
