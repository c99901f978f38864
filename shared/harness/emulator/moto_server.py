"""moto_server with the emulator's DynamoDB fixes: locking, request tokens and
a cheaper transaction rollback.

1. Locking. moto serves every request on its own thread and applies a write
   step by step: it reads the item, checks the condition, then writes; a
   transaction writes its items one by one and undoes them if a later one
   fails. Two concurrent conditional writes to one item can then both
   succeed, and a read can see a transaction in part, or a write that is
   undone a moment later. DynamoDB never allows either. The wrapper takes one
   readers-writer lock around every request that writes items (exclusive) or
   reads them (shared), so each write and each transaction happens at once
   with respect to every other write and every read, as on DynamoDB. Reads
   still run alongside each other; other services are not touched, except
   DynamoDB Streams' GetRecords, which reads under the shared lock so that it
   never returns a record of a transaction that is being cancelled.

2. ClientRequestToken. DynamoDB remembers a successful TransactWriteItems by
   its token for 10 minutes: a repeat with the same parameters succeeds
   without writing again, a repeat with other parameters is refused with
   IdempotentParameterMismatchException. moto ignores the token. The AWS SDKs
   fill the token and reuse it on retries, so without this a retried
   transaction whose first answer was lost would be applied twice here.

3. Rollback by key. moto 5.2.x backs up a TransactWriteItems by deep-copying
   the whole target table -- once per item of the transaction, stream records
   included. A table that has seen a few thousand writes then costs a quarter
   of a second per copy, and a 500-number approval or 500 concurrent release
   workflows spend minutes copying tables. The wrapper keeps moto's own
   transact_write_items (conditions, cancellation reasons, validation) and
   only changes how the rollback is prepared: before the call it saves the
   items the transaction names and the length of each table's stream; the
   table deep copies are skipped; when the transaction is cancelled it puts
   those items back and drops the stream records the cancelled writes added.
   The observable result is moto's: all items or none, and no stream record
   for a cancelled transaction.

4. One Lambda client. moto's Step Functions interpreter builds a new boto3
   client, with a new connection pool, for every Lambda invoke of a task
   state. Under a few hundred executions that retry throttled invokes, that
   was a quarter of moto's time (measured with py-spy), and it slowed every
   other request of the one Python process, DynamoDB's included. The
   wrapper hands the interpreter a few clients per region (threads are
   spread over them, so that no single connection pool's lock becomes a
   queue), with moto's own settings (no retries, long timeouts). Nothing
   observable changes.

5. Request dispatch. moto's server finds the backend of every request
   under one global lock, listing moto's package directory (about 150
   isdir calls) each time. The wrapper lists it once: the directory does
   not change while the server runs.

6. One parse per definition. moto parses the state machine's definition
   again (ANTLR, about 0.12 s of CPU on a quiet machine for the release
   workflow) at the start of every execution, so a 1,000-number approval
   cost two minutes of the one Python process at once. The wrapper keeps the
   parsed program of each definition and hands it to every execution of it.
   moto's parsed components keep no execution's state on themselves (that
   lives in the execution's environment, keyed by each component's
   heap_key, which the wrapper fixes before the first use so that two
   executions can never draw two keys for one component). Map and Parallel
   states do keep workers on themselves, so a definition with either is
   parsed per execution, as before. Nothing observable changes.

7. One parse per JSONPath. moto's interpreter parses every JSONPath it
   evaluates (a state's Parameters, InputPath, ResultPath, a Choice's
   Variable) with jsonpath_ng, whose parse builds a new ply parser each
   time, tables and all: under a 1,000-number release that was most of
   the time the interpreter held the GIL (py-spy --gil). The wrapper keeps
   each path's parsed expression (they are immutable: finding and updating
   never change them) in a bounded cache. moto's EventBridge parses its
   targets' input paths the same way, and shares the cache. Nothing
   observable changes.

8. Query by partition. moto answers a Query on the table's own key by
   listing and sorting every item of the table, then keeping those of the
   partition asked for. Under a 1,000-number release (ten thousand items)
   that was a third of moto's time, and every check and release makes one
   (the concurrency slots' read). The wrapper hands such a Query the
   partition's items only, in the same order. Index queries are unchanged.
   Nothing observable changes.

shared/harness/emulator's tests prove the first three (locking_test.go,
rollback_test.go).
Started by shared/harness/emulator with the project's virtualenv Python; arguments
are moto_server's.
"""

import collections
import copy
import functools
import itertools
import json
import sys
import threading
import time

import boto3
import jsonpath_ng.ext
from botocore.config import Config as BotoConfig
import moto
from moto import backends
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as table_module
import moto.dynamodb.models as models_module
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.server import main
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel.state_parallel import StateParallel
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.asl.component.common.path import result_path as result_path_module
from moto.stepfunctions.parser.asl.utils import json_path as json_path_module
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils


EXPECTED_MOTO = "5.2.5"

if moto.__version__ != EXPECTED_MOTO:
    sys.exit(
        f"moto_server.py patches moto {EXPECTED_MOTO}; found {moto.__version__}: "
        "re-check DynamoDBBackend.transact_write_items, the DynamoHandler "
        "methods named below and update the patch"
    )

# --- 3. Rollback by key -----------------------------------------------------

_state = threading.local()


class _CopyWithoutTables:
    """Stands in for the copy module inside moto.dynamodb.models: deepcopy of a
    Table returns the table itself while a patched transaction runs on this
    thread; everything else is copied as before."""

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, obj, memo=None):
        if getattr(_state, "active", False) and isinstance(obj, table_module.Table):
            return obj
        return copy.deepcopy(obj, memo)


models_module.copy = _CopyWithoutTables()

_original_transact_write_items = DynamoDBBackend.transact_write_items


def _key_values(table, op_type, op):
    attrs = op["Item"] if op_type == "Put" else op["Key"]
    hash_value = DynamoType(attrs[table.hash_key_attr])
    range_value = None
    if table.range_key_attr is not None:
        range_value = DynamoType(attrs[table.range_key_attr])
    return hash_value, range_value


def _snapshot(backend, transact_items):
    saved_items = []
    stream_lengths = {}
    for entry in transact_items:
        op_type, op = next(iter(entry.items()))
        table_name = op.get("TableName")
        if not table_name or table_name not in backend.tables:
            continue
        table = backend.tables[table_name]
        try:
            hash_value, range_value = _key_values(table, op_type, op)
        except (KeyError, TypeError):
            continue  # moto itself refuses the malformed item
        prior = table.get_item(hash_value, range_value)
        saved_items.append((table, hash_value, range_value, copy.deepcopy(prior)))
        if table.stream_shard is not None and table_name not in stream_lengths:
            stream_lengths[table_name] = (table, len(table.stream_shard.items))
    return saved_items, stream_lengths


def _restore(saved_items, stream_lengths):
    for table, hash_value, range_value, prior in reversed(saved_items):
        if range_value is None:
            if prior is None:
                table.items.pop(hash_value, None)
            else:
                table.items[hash_value] = prior
            continue
        if prior is None:
            bucket = table.items.get(hash_value)
            if bucket is not None:
                bucket.pop(range_value, None)
                if not bucket:
                    del table.items[hash_value]
        else:
            table.items[hash_value][range_value] = prior
    for table, length in stream_lengths.values():
        shard = table.stream_shard
        if shard is not None and len(shard.items) > length:
            del shard.items[length:]


def transact_write_items(self, transact_items):
    saved_items, stream_lengths = _snapshot(self, transact_items)
    _state.active = True
    try:
        return _original_transact_write_items(self, transact_items)
    except BaseException:
        _restore(saved_items, stream_lengths)
        raise
    finally:
        _state.active = False


DynamoDBBackend.transact_write_items = transact_write_items


# --- 2. ClientRequestToken -------------------------------------------------

TOKEN_SECONDS = 600  # DynamoDB: a token is valid 10 minutes after its request completed

# (account, region, token) -> (expiry, parameters, answer), oldest first.
# Used only under the exclusive lock.
_tokens = collections.OrderedDict()


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self):
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            "The ClientRequestToken was used before, within 10 minutes, with "
            "different parameters",
        )


def _remember_tokens(handler):
    @functools.wraps(handler)
    def transact_write_items(self):
        token = self.body.get("ClientRequestToken")
        if not token:
            return handler(self)
        now = time.monotonic()
        while _tokens:
            oldest = next(iter(_tokens))
            if _tokens[oldest][0] > now:
                break
            del _tokens[oldest]
        params = json.dumps(
            {k: v for k, v in self.body.items() if k != "ClientRequestToken"},
            sort_keys=True,
            default=str,
        )
        key = (self.current_account, self.region, token)
        seen = _tokens.get(key)
        if seen is not None:
            if seen[1] != params:
                raise IdempotentParameterMismatch()
            return ActionResult(copy.deepcopy(seen[2]))
        result = handler(self)  # a cancelled transaction raises: not remembered
        _tokens[key] = (time.monotonic() + TOKEN_SECONDS, params, copy.deepcopy(result.result))
        return result

    return transact_write_items


DynamoHandler.transact_write_items = _remember_tokens(DynamoHandler.transact_write_items)


# --- 1. Locking ------------------------------------------------------------


class _ReadersWriterLock:
    """Many readers or one writer, served in arrival order: a reader waits
    only for the writers that came before it, a writer for every request
    that came before it. Neither readers polling in a loop nor a steady
    stream of writes (a rate limiter's counters under load) can starve the
    other: a read waits for at most the writes queued ahead of it, as on
    DynamoDB, where reads never queue behind other items' writes at all.
    Not reentrant: each request takes it once, at the handler."""

    def __init__(self):
        self._cond = threading.Condition()
        self._tickets = itertools.count()
        self._readers = 0  # reading now
        self._writing = False
        self._waiting_readers = set()  # tickets
        self._waiting_writers = collections.deque()  # tickets, in order

    def acquire_shared(self):
        with self._cond:
            t = next(self._tickets)
            self._waiting_readers.add(t)
            while self._writing or (self._waiting_writers and self._waiting_writers[0] < t):
                self._cond.wait()
            self._waiting_readers.discard(t)
            self._readers += 1

    def release_shared(self):
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def acquire_exclusive(self):
        with self._cond:
            t = next(self._tickets)
            self._waiting_writers.append(t)
            while (self._writing or self._readers or self._waiting_writers[0] != t
                   or (self._waiting_readers and min(self._waiting_readers) < t)):
                self._cond.wait()
            self._waiting_writers.popleft()
            self._writing = True

    def release_exclusive(self):
        with self._cond:
            self._writing = False
            self._cond.notify_all()


# One lock for every table of every account and region: items are written
# one request at a time, which the emulator's load never notices.
_items = _ReadersWriterLock()


def _exclusive(handler):
    @functools.wraps(handler)
    def locked(self):
        _items.acquire_exclusive()
        try:
            return handler(self)
        finally:
            _items.release_exclusive()

    return locked


def _shared(handler):
    @functools.wraps(handler)
    def locked(self):
        _items.acquire_shared()
        try:
            return handler(self)
        finally:
            _items.release_shared()

    return locked


# Every request that writes items. PartiQL statements may read or write;
# they are all taken as writes. Nothing here calls back into moto over HTTP
# while it holds the lock (the project runs no event source mapping on moto),
# so the lock cannot wait on itself.
_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "batch_write_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
# Every request that reads items, including the two that copy a table.
_READS = (
    "get_item",
    "batch_get_item",
    "query",
    "scan",
    "transact_get_items",
    "create_backup",
    "export_table_to_point_in_time",
)

for _name in _WRITES:
    setattr(DynamoHandler, _name, _exclusive(getattr(DynamoHandler, _name)))
for _name in _READS:
    setattr(DynamoHandler, _name, _shared(getattr(DynamoHandler, _name)))
DynamoDBStreamsHandler.get_records = _shared(DynamoDBStreamsHandler.get_records)

# 4. A few Lambda clients per region for the Step Functions interpreter.
#
# One client would do for correctness, but its connection pool is one queue
# behind one mutex: with a thousand executions invoking (most of them
# answered 429 over the account's concurrency quota and retrying), 800
# threads queued on that mutex (py-spy). Each thread takes the client of its
# own stripe.
_LAMBDA_STRIPES = 16
_lambda_clients = {}  # (region, stripe) -> client
_lambda_clients_lock = threading.Lock()


def _lambda_client_for(region, service, state_credentials=None):
    if service != "lambda":
        return _original_boto_client_for(region=region, service=service, state_credentials=state_credentials)
    key = (region, threading.get_native_id() % _LAMBDA_STRIPES)
    # The lock only guards a client's first creation: hundreds of
    # executions' threads invoking at once queued on it (half of moto's
    # samples under a 1,000-number approval), so a client already made is
    # taken without it.
    client = _lambda_clients.get(key)
    if client is not None:
        return client
    with _lambda_clients_lock:
        client = _lambda_clients.get(key)
        if client is None:
            client = boto3.client(
                "lambda",
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                endpoint_url=f"http://localhost:{moto_server_port()}",
                config=BotoConfig(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    max_pool_connections=128,
                ),
            )
            _lambda_clients[key] = client
        return client


_original_boto_client_for = lambda_eval_utils.boto_client_for
lambda_eval_utils.boto_client_for = _lambda_client_for

# 6. One parse per definition.
_programs = {}  # definition -> its parsed program, or None when it may not be shared
_programs_lock = threading.Lock()


def _fix_heap_keys(root):
    """Gives every component of the tree its heap_key now, and reports whether
    the tree may be shared (no Map or Parallel state)."""
    shareable = True
    seen = set()
    stack = [root]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, (list, tuple, set)):
            stack.extend(obj)
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
            continue
        if not isinstance(obj, Component):
            continue
        if isinstance(obj, (StateMap, StateParallel)):
            shareable = False
        if isinstance(obj, EvalComponent):
            obj.heap_key  # noqa: B018 -- assigns it once, before any execution runs
        stack.extend(vars(obj).values())
    return shareable


def _shared_entrypoint(self):
    definition = self._evaluation_details.state_machine_details.definition
    if definition not in _programs:
        with _programs_lock:
            if definition not in _programs:
                program = _original_entrypoint(self)
                _programs[definition] = program if _fix_heap_keys(program) else None
                return program
    program = _programs[definition]
    return program if program is not None else _original_entrypoint(self)


_original_entrypoint = ExecutionWorker._get_evaluation_entrypoint
ExecutionWorker._get_evaluation_entrypoint = _shared_entrypoint

# 7. One parse per JSONPath.
json_path_module.parse = functools.lru_cache(maxsize=4096)(json_path_module.parse)
result_path_module.parse = functools.lru_cache(maxsize=4096)(result_path_module.parse)
# moto.events imports jsonpath_ng.ext's parse at each call: patch it there.
jsonpath_ng.ext.parse = functools.lru_cache(maxsize=4096)(jsonpath_ng.ext.parse)

# 8. Query by partition.
_original_all_items = table_module.Table.all_items
_original_query = table_module.Table.query


def _all_items(self):
    hash_key = getattr(_state, "query_partition", None)
    if hash_key is None:
        return _original_all_items(self)
    bucket = self.items.get(hash_key)
    if bucket is None:
        return []
    if self.range_key_attr:
        return sorted(bucket.values(), key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)
    return [bucket]


_QUERY_INDEX_ARG = 6  # index_name's place among query's arguments after hash_key


def _query(self, hash_key, *args, **kwargs):
    index_name = args[_QUERY_INDEX_ARG] if len(args) > _QUERY_INDEX_ARG else kwargs.get("index_name")
    if index_name or hash_key is None:
        return _original_query(self, hash_key, *args, **kwargs)
    _state.query_partition = hash_key
    try:
        return _original_query(self, hash_key, *args, **kwargs)
    finally:
        _state.query_partition = None


table_module.Table.all_items = _all_items
table_module.Table.query = _query

# 5. moto's modules, listed once.
_moto_modules = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: _moto_modules

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
