#!/usr/bin/env python3
# NSX ALB (Avi) ControlScript: forwards an alert to poolpilot's Senlin-style receiver, instead of cloning VMs itself.
#
# Avi runs a ControlScript when an alert's action group names it, with the alert as JSON in sys.argv[1]. The alert
# config's name says what to ask: "poolpilot-<cluster>-scale-out" or "poolpilot-<cluster>-scale-in" (see the
# AlertConfig files beside this one). poolpilot takes it as an alarm: its policy (cooldowns, min/max, a run under
# way) decides, and the decision log says why an alarm was dropped.
#
# Set POOLPILOT_URL (default below) and POOLPILOT_TOKEN where the controller runs scripts, or edit the defaults.
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

POOLPILOT_URL = os.environ.get("POOLPILOT_URL", "http://poolpilot.example.com:18700")
POOLPILOT_TOKEN = os.environ.get("POOLPILOT_TOKEN", "")
ACTIONS = {"scale-out": "CLUSTER_SCALE_OUT", "scale-in": "CLUSTER_SCALE_IN"}


def main(argv):
    if len(argv) < 2:
        print("usage: poolpilot_forward.py '<alert JSON>' (Avi passes the alert as the first argument)", file=sys.stderr)
        return 2
    try:
        alert = json.loads(argv[1])
    except ValueError as err:
        print("the alert is not JSON: %s" % err, file=sys.stderr)
        return 2
    name = alert.get("name", "")
    m = re.match(r"^poolpilot-([a-z][a-z0-9]{0,30})-(scale-out|scale-in)$", name)
    if not m:
        print("alert %r is not named poolpilot-<cluster>-scale-out or -scale-in; nothing sent" % name, file=sys.stderr)
        return 2
    cluster, direction = m.group(1), m.group(2)
    query = urllib.parse.urlencode({"action": ACTIONS[direction], "count": 1})
    url = "%s/v1/webhooks/%s/trigger?%s" % (POOLPILOT_URL.rstrip("/"), cluster, query)
    headers = {"Content-Type": "application/json"}
    if POOLPILOT_TOKEN:
        headers["Authorization"] = "Bearer " + POOLPILOT_TOKEN
    body = json.dumps({"params": {"count": 1}, "avi_alert": name}).encode()
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            print("poolpilot %s: HTTP %d %s" % (cluster, res.status, res.read().decode()[:500]))
            return 0
    except urllib.error.HTTPError as err:
        print("poolpilot %s: HTTP %d %s" % (cluster, err.code, err.read().decode()[:500]), file=sys.stderr)
        return 1
    except OSError as err:
        print("poolpilot at %s did not answer: %s" % (POOLPILOT_URL, err), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
