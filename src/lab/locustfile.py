# Load for the demo: users hit the HAProxy VIP; the shape ramps up, holds a plateau, then stops.
import os

import locust.stats
from locust import HttpUser, LoadTestShape, between, task

# The demo reads the stats history every second; Locust's default flushes it every 10 s.
locust.stats.CSV_STATS_INTERVAL_SEC = 1
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1

USERS = int(os.environ.get("POOLPILOT_USERS", "1000"))
SPAWN_RATE = float(os.environ.get("POOLPILOT_SPAWN_RATE", "5"))
PLATEAU_S = float(os.environ.get("POOLPILOT_PLATEAU_S", "60"))
WAIT_MIN = float(os.environ.get("POOLPILOT_WAIT_MIN", "3"))
WAIT_MAX = float(os.environ.get("POOLPILOT_WAIT_MAX", "5"))


class Visitor(HttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    @task
    def index(self):
        self.client.get("/")


class RampPlateauStop(LoadTestShape):
    """Ramp to USERS at SPAWN_RATE per second, hold for PLATEAU_S, then stop."""

    def tick(self):
        ramp = USERS / SPAWN_RATE
        t = self.get_run_time()
        if t < ramp + PLATEAU_S:
            return (USERS, SPAWN_RATE)
        return None
