"""moto_server with one emulator-only performance fix: transaction rollback by key.

moto 5.2.x backs up a DynamoDB TransactWriteItems by deep-copying the whole
target table -- once per item of the transaction, stream records included. A
table that has seen a few thousand writes then costs a quarter of a second per
copy, and a 500-number approval (ten 100-item transactions) or 500 concurrent
release workflows spend minutes copying tables instead of answering.

This wrapper keeps moto's own transact_write_items (conditions, cancellation
reasons, validation) and only changes how the rollback is prepared: before the
call it saves the items the transaction names and the length of each table's
stream; the table deep copies are skipped; when the transaction is cancelled it
puts those items back and drops the stream records the cancelled writes added.
The observable result is the same as moto's: all items or none, and no stream
record for a cancelled transaction. shared/emulator's tests prove it.

Started by shared/emulator with the project's virtualenv Python; arguments are
moto_server's.
"""

import copy
import sys
import threading

import moto
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models import table as table_module
import moto.dynamodb.models as models_module
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.server import main

EXPECTED_MOTO = "5.2.5"

if moto.__version__ != EXPECTED_MOTO:
    sys.exit(
        f"moto_server.py patches moto {EXPECTED_MOTO}; found {moto.__version__}: "
        "re-check DynamoDBBackend.transact_write_items and update the patch"
    )

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

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
