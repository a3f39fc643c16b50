"""A small deterministic service-request table with the shapes the core meets:
nulls, open requests, several types and areas, timestamps over two years."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

TYPES = ["pothole", "graffiti", "missed trash", "streetlight", "noise"]
AREAS = ["N01", "N02", "N03", "N04", "N05", "N06", "N07"]
CHANNELS = ["phone", "web", "app"]


def write_requests_csv(path: Path, rows: int = 20_000, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    start = datetime(2023, 1, 1)
    opened_minutes = np.sort(rng.integers(0, 2 * 365 * 24 * 60, rows))
    duration_minutes = rng.lognormal(mean=7.5, sigma=1.2, size=rows).astype(int) + 1
    closed_mask = rng.random(rows) > 0.12
    type_idx = rng.choice(len(TYPES), size=rows, p=[0.35, 0.15, 0.25, 0.15, 0.10])
    area_idx = rng.integers(0, len(AREAS), rows)
    channel_idx = rng.integers(0, len(CHANNELS), rows)
    lat = np.round(42.2 + rng.random(rows) * 0.25, 6)
    lon = np.round(-71.2 + rng.random(rows) * 0.3, 6)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["request_id", "type", "area", "channel", "opened", "closed", "latitude", "longitude", "priority"])
        for i in range(rows):
            opened = start + timedelta(minutes=int(opened_minutes[i]))
            closed = opened + timedelta(minutes=int(duration_minutes[i])) if closed_mask[i] else None
            out.writerow(
                [
                    100_000 + i,
                    TYPES[type_idx[i]],
                    AREAS[area_idx[i]] if i % 97 else "",
                    CHANNELS[channel_idx[i]],
                    opened.strftime("%Y-%m-%d %H:%M:%S"),
                    closed.strftime("%Y-%m-%d %H:%M:%S") if closed else "",
                    lat[i],
                    lon[i],
                    int(rng.integers(1, 4)),
                ]
            )
    return path
