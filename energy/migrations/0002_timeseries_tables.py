"""Readings (partitioned by month), rollups and the rollup work queue, in plain SQL."""
from django.db import migrations

SQL = """
CREATE TABLE energy_reading (
    ts timestamptz NOT NULL,
    home_id uuid NOT NULL,
    room_id uuid,
    device_id uuid NOT NULL,
    measurement text NOT NULL,
    field text NOT NULL,
    value double precision NOT NULL
) PARTITION BY RANGE (ts);
CREATE INDEX energy_reading_ts_brin ON energy_reading USING brin (ts) WITH (pages_per_range = 32);
CREATE INDEX energy_reading_device_ts ON energy_reading (device_id, ts);

CREATE TABLE energy_rollup (
    size text NOT NULL CHECK (size IN ('5m', '1h', '1d')),
    bucket timestamptz NOT NULL,
    home_id uuid NOT NULL,
    room_id uuid,
    device_id uuid NOT NULL,
    measurement text NOT NULL,
    field text NOT NULL,
    count bigint NOT NULL,
    sum double precision NOT NULL,
    min double precision NOT NULL,
    max double precision NOT NULL,
    last double precision NOT NULL,
    last_ts timestamptz NOT NULL
);
CREATE INDEX energy_rollup_home ON energy_rollup (home_id, size, bucket);
CREATE INDEX energy_rollup_device ON energy_rollup (device_id, size, bucket);

CREATE TABLE energy_rollup_dirty (
    home_id uuid NOT NULL,
    hour timestamptz NOT NULL,
    PRIMARY KEY (home_id, hour)
);
"""

REVERSE = "DROP TABLE energy_rollup_dirty; DROP TABLE energy_rollup; DROP TABLE energy_reading;"


class Migration(migrations.Migration):
    dependencies = [("energy", "0001_tariffs_budgets_tokens")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
