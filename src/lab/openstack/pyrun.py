# Runs an OpenStack program from its Python entry point: Debian's python3-* packages ship the modules without the
# console scripts. Usage: pyrun.py package.module:function program-name [args...]
# POOLPILOT_PY_HUB_SAFE_CHECKIN=1 (Senlin's services): a pooled connection that Senlin drops without returning it is
# returned by SQLAlchemy's finalizer, which can run inside eventlet's hub; there oslo.db's check-in listener
# (`time.sleep(0)`, eventlet's once monkey-patched) raises "do not call blocking functions from the mainloop", the
# connection is never returned, greenlet then fails with SystemError, and the pool runs dry ("QueuePool limit of size 5
# overflow 50 reached") within minutes of scaling. The listener is made to skip its yield when it runs in the hub.
# POOLPILOT_PY_NULL_POOL=1 (Senlin's services): no connection pool at all, a connection per session (a few
# milliseconds on loopback). With the check-in fix alone a lost connection's finalizer still ran in eventlet's hub, and
# greenlet failed there ("switch ... returned NULL without setting an exception"), leaving a node action RUNNING.
# POOLPILOT_PY_PLAIN_PSYCOPG=1 keeps eventlet from making psycopg2 "green" (tried first, against the same crash: it
# did not mend it; kept so a query never switches greenthreads inside a finalizer).
import importlib
import os
import sys

if os.environ.get('POOLPILOT_PY_PLAIN_PSYCOPG') == '1':
    from eventlet import patcher

    patcher.already_patched['psycopg'] = True
target, prog, *args = sys.argv[1:]
module, _, func = target.partition(':')
sys.argv = [prog, *args]
program = importlib.import_module(module)
if os.environ.get('POOLPILOT_PY_HUB_SAFE_CHECKIN') == '1':
    import greenlet
    from eventlet import hubs
    from oslo_db.sqlalchemy import engines

    _yield = engines._thread_yield

    def _hub_safe_yield(dbapi_con, con_record):
        if hubs.get_hub().greenlet is not greenlet.getcurrent():
            _yield(dbapi_con, con_record)

    # Read by name when an engine is made, so replacing it here (before any engine) is enough; after the program's module
    # is imported, as that is where it monkey-patches (importing oslo.db before would import threading unpatched).
    engines._thread_yield = _hub_safe_yield
if os.environ.get('POOLPILOT_PY_NULL_POOL') == '1':
    import sqlalchemy
    from sqlalchemy import pool as sa_pool

    _create_engine = sqlalchemy.create_engine

    def _unpooled(url, **kw):
        for k in ('pool_size', 'max_overflow', 'pool_timeout'):
            kw.pop(k, None)
        return _create_engine(url, poolclass=sa_pool.NullPool, **{k: v for k, v in kw.items() if k != 'poolclass'})

    # oslo.db calls sqlalchemy.create_engine by its module attribute when it makes an engine.
    sqlalchemy.create_engine = _unpooled
sys.exit(getattr(program, func)())
