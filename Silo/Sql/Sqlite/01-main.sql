-- ImOrleans: query catalogue for the Orleans ADO.NET grain storage (SQLite).
--
-- The provider (invariant "System.Data.SQLite", served by Microsoft.Data.Sqlite)
-- loads its SQL from this table when it starts and binds fixed @-parameter
-- names and result column names. 03-persistence fills it. Every script is
-- safe to run again on a database that already has the schema.
--
-- SQLite is used for grain state only (embedded, single silo): clustering is
-- localhost and there are no persistent reminders, so no such tables here.

CREATE TABLE IF NOT EXISTS OrleansQuery
(
    QueryKey  TEXT NOT NULL PRIMARY KEY,
    QueryText TEXT NOT NULL
);
