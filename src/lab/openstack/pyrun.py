# Runs an OpenStack program from its Python entry point: Debian's python3-* packages ship the modules without the
# console scripts. Usage: pyrun.py package.module:function program-name [args...]
# POOLPILOT_PY_PLAIN_PSYCOPG=1 keeps eventlet from making psycopg2 "green" when the program monkey-patches: Senlin's
# conductor crashed with it (a pooled connection finalized inside eventlet's hub: "do not call blocking functions from
# the mainloop", then greenlet's SystemError). Plain psycopg2 blocks for the few milliseconds of a lab's query.
import importlib
import os
import sys

if os.environ.get('POOLPILOT_PY_PLAIN_PSYCOPG') == '1':
    from eventlet import patcher

    patcher.already_patched['psycopg'] = True
target, prog, *args = sys.argv[1:]
module, _, func = target.partition(':')
sys.argv = [prog, *args]
sys.exit(getattr(importlib.import_module(module), func)())
