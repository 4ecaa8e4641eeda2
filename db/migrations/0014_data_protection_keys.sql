-- ASP.NET Core Data Protection's key ring, shared by every node: a jobs-dashboard session cookie or an antiforgery
-- token one node issued is accepted by the others. Rows are written by the framework (XML, no secrets in clear when a
-- key-encryption option is configured; see README "The jobs dashboard").
CREATE TABLE data_protection_keys (
    name       text PRIMARY KEY,
    xml        text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
