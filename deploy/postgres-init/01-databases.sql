-- Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
-- One server, one database per service: each service owns its data and nothing joins across them.
-- (The services would also create a missing database at start; creating them here keeps the owner explicit.)
CREATE DATABASE commerce_order;
CREATE DATABASE commerce_inventory;
CREATE DATABASE commerce_payment;
