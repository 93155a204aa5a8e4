"""Each worker's copy of a few small collections, kept current by a change stream.

A rush asks the same few things on every request: is this token revoked, what is this
event, what is this user's role. Each worker keeps those collections in memory (a
`Mirror` each), loaded once and then changed by one change stream (`Feed`, a thread of
the worker), so that a request answers them without a database round trip.

A copy is used only while it is known to be current: `Feed.mirror` gives it only while
the stream has answered, with every change made before it was asked, less than
`FRESH_FOR` ago. Otherwise (no stream yet, a stream that failed, a standalone `mongod`
that has none) the caller reads the database, as it did before there were copies. So a
change made by any process is seen by every worker within `FRESH_FOR`, never later.

Freshness is told by the stream's own commands (`BatchClock`): when a batch is asked for,
every change of the batches received before it has been applied, so the copies are
complete as of the moment the last of those was asked for.
"""

import logging
import threading
import time

from flask import current_app
from pymongo import MongoClient, monitoring
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

FRESH_FOR = 0.75  # seconds: a copy older than this is not used (a revocation applies everywhere within 1 s)
MAX_AWAIT_MS = 250  # an idle stream still answers this often, so an idle copy stays fresh
# After an empty batch, before asking for the next one. A server may answer a waiting
# `getMore` at every write, to any collection (the embedded one does): without a pause a
# rush's writes would cost each worker a `getMore` apiece. With it, at most 50 a second.
EMPTY_BATCH_PAUSE = 0.02  # seconds
RETRY_AFTER = (0.2, 1.0, 5.0)  # seconds before opening the stream again, after each failure in a row
NO_CHANGE_STREAMS = 40573  # a standalone mongod: "The $changeStream stage is only supported on replica sets"
APP_NAME = "ticket_api-changes"  # its own client, so that fail points and listeners of the app's spare it


class Mirror:
    """The documents of one collection (only the `fields` given, else whole), by `_id`.

    Documents are replaced, never changed in place, so a reader holding one sees it whole.
    An update whose `__v` is older than the copy's is skipped: the copy may already be
    newer (`put`, by the worker that made the change). An insert or a replace is taken
    whatever its `__v`: a document written whole by hand (a restore, a tool) may carry an
    older one, or none, and is what is stored from then on; a `put` it overtakes comes
    back with the update that follows it in the stream.
    """

    def __init__(self, collection, fields=None):
        self.collection, self.fields = collection, fields
        self.documents = {}
        self.generation = 0  # changes whenever the copy does, or this worker writes (`touch`)
        self.lock = threading.Lock()  # between the stream's thread and `put`

    def load(self, database):
        projection = dict.fromkeys(self.fields, 1) if self.fields else None
        self.documents = {document["_id"]: document for document in database[self.collection].find({}, projection)}
        self.generation += 1

    def get(self, key):
        return self.documents.get(key)

    def put(self, document):
        """This worker's own write, seen before its stream reports it."""
        with self.lock:
            self.keep(document["_id"], self.kept(document))

    def touch(self):
        """This worker changed a document in a way the copy learns only from the stream:
        what was derived from the copy is stale (`generation`)."""
        with self.lock:
            self.generation += 1

    def apply(self, change, read):
        """Apply one change event; `read(key)` reads a document as stored now, for an
        update this copy cannot apply from its description alone."""
        key = change["documentKey"]["_id"]
        with self.lock:
            if change["operationType"] == "delete":
                self.keep(key, None)
            elif change["operationType"] in ("insert", "replace"):
                self.generation += 1
                self.documents[key] = self.kept(change["fullDocument"])
            elif change["operationType"] == "update":
                self.keep(key, self.updated(key, change["updateDescription"], read))

    def updated(self, key, description, read):
        document, set_fields = self.documents.get(key), description["updatedFields"]
        removed = description.get("removedFields", [])
        if document is None or any("." in field for field in [*set_fields, *removed]):
            return self.kept(read(key))  # nested fields: the stored document is as new as the change, or newer
        unset = set(removed)
        return {**{k: v for k, v in document.items() if k not in unset}, **self.kept(set_fields)}

    def keep(self, key, document):
        self.generation += 1
        current = self.documents.get(key)
        if document is None:
            self.documents.pop(key, None)
        elif current is None or document.get("__v", 0) >= current.get("__v", 0):
            self.documents[key] = document

    def kept(self, document):
        if document is None or not self.fields:
            return document
        return {k: v for k, v in document.items() if k == "_id" or k in self.fields}


class BatchClock(monitoring.CommandListener):
    """When the stream's copies were last complete, told by the stream's own commands: its
    `aggregate` and the `getMore`s of its cursor (not those of the loads' `find`s)."""

    def __init__(self):
        self.asked = {}  # request id -> when the batch was asked for
        self.cursor = None  # the stream's
        self.received = None  # when the newest batch received was asked for
        self.complete_as_of = None

    def reset(self):
        self.asked.clear()
        self.cursor = self.received = self.complete_as_of = None

    def started(self, event):
        if self.of_the_stream(event.command_name, event.command):
            # A new batch is asked for only once every change of the last one is applied.
            self.complete_as_of = self.received
            self.asked[event.request_id] = time.monotonic()

    def of_the_stream(self, name, command):
        if name == "aggregate":
            return "$changeStream" in (command.get("pipeline") or [{}])[0]
        return name == "getMore" and command.get("getMore") == self.cursor

    def succeeded(self, event):
        if (asked := self.asked.pop(event.request_id, None)) is not None:
            self.received = asked
            if event.command_name == "aggregate":
                self.cursor = event.reply["cursor"]["id"]

    def failed(self, event):
        self.asked.pop(event.request_id, None)


class Feed:
    """One change stream over the mirrored collections of one database, followed by a
    thread started on first use (so after gunicorn forks its workers)."""

    def __init__(self, uri, database, mirrors, client_options):
        self.uri, self.database_name, self.client_options = uri, database, client_options
        self.mirrors = {mirror.collection: mirror for mirror in mirrors}
        self.clock = BatchClock()
        self.thread = self.client = None
        self.stopping = False
        self.start_lock = threading.Lock()

    def mirror(self, collection):
        """The copy of `collection` while it is current, else None (read the database)."""
        self.start()
        return self.mirrors[collection] if self.fresh() else None

    def fresh(self):
        complete_as_of = self.clock.complete_as_of
        return complete_as_of is not None and time.monotonic() - complete_as_of < FRESH_FOR

    def start(self):
        if self.thread is not None or self.stopping:
            return
        with self.start_lock:
            if self.thread is None:
                self.client = MongoClient(self.uri, tz_aware=True, appname=APP_NAME, event_listeners=[self.clock],
                                          **self.client_options)
                self.thread = threading.Thread(target=self.follow, name="change-feed", daemon=True)
                self.thread.start()

    def stop(self):
        """Stop following; the thread ends by itself at its next answer (it is never waited on)."""
        self.stopping = True
        client, self.client = self.client, None
        if client is not None:
            client.close()

    def follow(self):
        failures = 0
        while not self.stopping:
            try:
                self.follow_stream()
                failures = 0
            except OperationFailure as error:
                if error.code == NO_CHANGE_STREAMS:
                    log.info("no change streams on this server: every request reads the database")
                    return
                failures = self.failed(error, failures)
            except Exception as error:  # any failure: read the database until the stream is back
                if self.stopping:
                    return
                failures = self.failed(error, failures)

    def failed(self, error, failures):
        self.clock.reset()
        log.warning("change stream lost (%s): reading the database until it is back", error)
        time.sleep(RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)])
        return failures + 1

    def follow_stream(self):
        """Open the stream, then load the copies (so no change falls between the two),
        then apply each change until the stream ends (`invalidate`: a dropped database)."""
        database = self.client[self.database_name]
        watched = [{"$match": {"ns.coll": {"$in": list(self.mirrors)}}}]
        with database.watch(watched, max_await_time_ms=MAX_AWAIT_MS) as stream:
            for mirror in self.mirrors.values():
                mirror.load(database)
            while not self.stopping and stream.alive:
                change = stream.try_next()
                if change is None:  # an empty batch: woken by a write it does not follow, or idle
                    time.sleep(EMPTY_BATCH_PAUSE)
                    continue
                if change["operationType"] in ("insert", "update", "replace", "delete"):
                    collection = change["ns"]["coll"]
                    self.mirrors[collection].apply(change, database[collection].find_one)
                else:
                    raise PyMongoError(f"change stream ended: {change['operationType']}")
        self.clock.reset()


def init_app(app, mirrors):
    """This app's feed, over `mirrors` (made by the stores: they own their collections).
    `CHANGE_FEED` false: no stream, every request reads the database."""
    options = {key: value for key, value in app.config.get("MONGODB_CLIENT_OPTIONS", {}).items()
               if key != "event_listeners"}
    options.setdefault("serverSelectionTimeoutMS", app.config["MONGODB_TIMEOUT_MS"])
    feed = Feed(app.config["MONGODB_URI"], app.config["MONGODB_DB"], mirrors, options)
    if not app.config["CHANGE_FEED"]:
        feed.stopping = True
    app.extensions["changes"] = feed


def mirror(collection):
    """The current app's copy of `collection` while it is current, else None."""
    return current_app.extensions["changes"].mirror(collection)


def own_write(collection, document=None):
    """`document`, as this worker just wrote it, into its copy at once (whether current or
    not); without one, a write the copy will learn from the stream (`Mirror.touch`)."""
    copy = current_app.extensions["changes"].mirrors[collection]
    if document is None:
        copy.touch()
    else:
        copy.put(document)


def close(app):
    app.extensions["changes"].stop()
