-- Runs once, when the PostgreSQL volume is new: the database of the ticketing processes. (Temporal's
-- own two databases are made by the temporal-schema service.)
CREATE DATABASE ticketing;
