"""Each worker's copy of a few small collections, kept current by a change stream.

A rush asks the same few things on every request: is this token revoked, what is this
event, what is this user's role. Each worker keeps those collections in memory (a
`Mirror` each), loaded once and then changed by one change stream (`Feed`, a thread of
the worker), so that a request answers them without a database round trip.

A copy is used only while it is known to be current: `Feed.mirror` gives it only while
every change made before a moment less than `FRESH_FOR` ago has been applied to it.
Otherwise (no stream yet, a stream that failed or fell behind, a standalone `mongod`
that has none) the caller reads the database, as it did before there were copies. So a
change made by any process is seen by every worker within `FRESH_FOR`, never later.

Freshness is told by marks: every `MARK_EVERY` the feed writes a mark of its own (in
`MARKS`) and follows it in its stream, which gives changes in the order they were made.
When the mark comes back, every change acknowledged before the mark was sent has been
applied. A batch of the stream tells nothing of the kind: a server answers a backlog a
batch at a time (the embedded one: at most 101 changes, and an empty batch after
scanning a few hundred entries of other collections), so a batch asked for now may
hold none of the changes made a moment ago.
"""

import logging
import threading
import time
from datetime import UTC, datetime

from bson import ObjectId
from flask import current_app
from pymongo import MongoClient
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

FRESH_FOR = 0.75  # seconds: a copy older than this is not used (a revocation applies everywhere within 1 s)
MAX_AWAIT_MS = 250  # an idle stream still answers this often, so the next mark is not late
MARK_EVERY = 0.2  # seconds between a worker's marks: an idle copy is current as of at most about this long ago
MARKS = "feed_marks"  # one document per worker, `{_id, n, at}`: its last mark (kept an hour after, `db.INDEXES`)
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


class Feed:
    """One change stream over the mirrored collections of one database, followed by a
    thread started on first use (so after gunicorn forks its workers)."""

    def __init__(self, uri, database, mirrors, client_options):
        self.uri, self.database_name, self.client_options = uri, database, client_options
        self.mirrors = {mirror.collection: mirror for mirror in mirrors}
        self.mark_id = ObjectId()  # this feed's document in `MARKS`
        self.marks_sent = 0
        self.awaited = None  # (number, when sent) of the mark sent and not yet back
        self.next_mark_at = 0.0  # monotonic
        self.complete_as_of = None  # when the last mark back was sent: every change before it is applied
        self.thread = self.client = None
        self.stopping = False
        self.start_lock = threading.Lock()

    def mirror(self, collection):
        """The copy of `collection` while it is current, else None (read the database)."""
        self.start()
        return self.mirrors[collection] if self.fresh() else None

    def fresh(self):
        complete_as_of = self.complete_as_of
        return complete_as_of is not None and time.monotonic() - complete_as_of < FRESH_FOR

    def start(self):
        if self.thread is not None or self.stopping:
            return
        with self.start_lock:
            if self.thread is None:
                self.client = MongoClient(self.uri, tz_aware=True, appname=APP_NAME, **self.client_options)
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
        self.forget_marks()
        log.warning("change stream lost (%s): reading the database until it is back", error)
        time.sleep(RETRY_AFTER[min(failures, len(RETRY_AFTER) - 1)])
        return failures + 1

    def forget_marks(self):
        """Not current until a mark sent on a new stream comes back."""
        self.complete_as_of = self.awaited = None
        self.next_mark_at = 0.0

    def follow_stream(self):
        """Open the stream, then load the copies (so no change falls between the two),
        then apply each change until the stream ends (`invalidate`: a dropped database),
        marking as it goes."""
        database = self.client[self.database_name]
        watched = [{"$match": {"$or": [{"ns.coll": {"$in": list(self.mirrors)}},
                                       {"ns.coll": MARKS, "documentKey._id": self.mark_id}]}}]
        with database.watch(watched, max_await_time_ms=MAX_AWAIT_MS) as stream:
            for mirror in self.mirrors.values():
                mirror.load(database)
            while not self.stopping and stream.alive:
                self.mark_if_due(database[MARKS])
                change = stream.try_next()
                if change is None:  # an empty batch: woken by a write it does not follow, or idle
                    time.sleep(EMPTY_BATCH_PAUSE)
                elif change["operationType"] not in ("insert", "update", "replace", "delete"):
                    raise PyMongoError(f"change stream ended: {change['operationType']}")
                elif change["ns"]["coll"] == MARKS:
                    self.mark_back(change)
                else:
                    collection = change["ns"]["coll"]
                    self.mirrors[collection].apply(change, database[collection].find_one)
        self.forget_marks()

    def mark_if_due(self, marks):
        """Send the next mark, unless one is on its way or the last was sent too recently."""
        if self.awaited is not None or time.monotonic() < self.next_mark_at:
            return
        self.marks_sent += 1
        sent = time.monotonic()  # before the write: every change acknowledged by now comes before it
        marks.update_one({"_id": self.mark_id}, {"$set": {"n": self.marks_sent, "at": datetime.now(UTC)}},
                         upsert=True)
        self.awaited, self.next_mark_at = (self.marks_sent, sent), sent + MARK_EVERY

    def mark_back(self, change):
        written = change.get("fullDocument") or change.get("updateDescription", {}).get("updatedFields", {})
        if self.awaited is not None and written.get("n") == self.awaited[0]:
            self.complete_as_of, self.awaited = self.awaited[1], None


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


def copied_or_read(collection, key, read):
    """The document `key` from the current app's copy of `collection` when it is current
    and has it, else `read(key)`: a document the copy lacks may be newer than the copy
    (made a moment ago elsewhere), or gone."""
    copy = mirror(collection)
    return (copy.get(key) if copy is not None else None) or read(key)


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
