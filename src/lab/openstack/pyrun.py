# Runs an OpenStack program from its Python entry point: Debian's python3-* packages ship the modules without the
# console scripts. Usage: pyrun.py package.module:function program-name [args...]
# POOLPILOT_PY_NO_CHECKIN_YIELD=1 (Senlin's services): oslo.db's check-in listener yields (`time.sleep(0)`, eventlet's
# once monkey-patched) whenever a connection goes back. A connection Senlin drops without returning it is returned by
# SQLAlchemy's finalizer, wherever the garbage collector runs: inside eventlet's hub ("do not call blocking functions
# from the mainloop"), or in a greenthread an eventlet Timeout then fires into (TimeoutError inside the finalizer).
# Either way the connection is lost, greenlet fails from then on ("switch ... returned NULL without setting an
# exception"), RPC casts are dropped, and actions stay READY or RUNNING; with a pool, it also runs dry ("QueuePool limit
# of size 5 overflow 50 reached"). The listener never yields here (skipping it only inside the hub was not enough).
# POOLPILOT_PY_NULL_POOL=1 (Senlin's services): no connection pool at all, a connection per session (a few
# milliseconds on loopback), so a lost connection costs nothing and no pool lock is taken inside a finalizer.
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
if os.environ.get('POOLPILOT_PY_NO_CHECKIN_YIELD') == '1':
    from oslo_db.sqlalchemy import engines

    # Read by name when an engine is made, so replacing it here (before any engine) is enough; after the program's module
    # is imported, as that is where it monkey-patches (importing oslo.db before would import threading unpatched).
    engines._thread_yield = lambda dbapi_con, con_record: None
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
