"""What requests cost the database, counted by the database server itself: `serverStatus`
`opcounters` (mongod's buckets: query, insert, update, delete, getmore, command) and `top`
(commands per collection), read before and after, so the commands of every gunicorn worker
are counted; a driver's CommandListener would see one process only.

The two tell apart what a request sends from what runs beside it. `top` counts, per
collection of the measured database, the commands sent on that collection (its cursors'
`getMore`s included): a request's own commands, exactly. The opcounters count everything
on the server, every database: besides those, the `getMore`s of each worker's change
stream (`ticket_api/changes.py`), which follows the whole database, so `top` files them
under no collection (the embedded server lists no namespace for them; were a `mongod` to
list the stream's cursor, `<database>.$cmd.aggregate`, it is no collection and left out),
and commands no request sends: drivers' heartbeats (`hello`, about one per client every
10 s) and this module's own two reads, which are taken off. A stream's `getMore`s are the
server's less those `top` counts on collections; a worker's stream is woken by any write,
to any database, so while the old code of `make bench` is measured they are the new
code's workers'. `top` lists existing collections only, so a read of one not yet created
is in no collection.
"""

from dataclasses import dataclass

from pymongo import MongoClient

BUCKETS = ("query", "insert", "update", "delete", "getmore", "command")
OWN_COMMANDS = 2  # between two readings: the first one's `top`, the second one's `serverStatus`


@dataclass
class Cost:
    """Commands per request: the request's own (`own`, the sum of `collections`), the
    change streams' `getMore`s beside them (`stream_getmores`), and every command the
    server counted (`total`, by opcounters bucket in `buckets`)."""

    own: float
    collections: dict
    stream_getmores: float
    total: float
    buckets: dict

    def __str__(self):
        return f"{self.own:.2f} the request's own ({self.by_collection()}), {self.beside()}"

    def by_collection(self):
        return ", ".join(f"{name} {count:.2f}" for name, count in self.collections.items() if count >= 0.005) \
            or "none"

    def beside(self):
        """The server-wide figures: the streams' getMores, and every command by bucket."""
        buckets = ", ".join(f"{name} {count:.2f}" for name, count in self.buckets.items() if count >= 0.005)
        return (f"plus {self.stream_getmores:.2f} getMores of the workers' change streams (server-wide: "
                f"{self.total:.2f} in all, {buckets or 'none'})")


class Counters:
    """The database server's command counters, read through a client of their own."""

    def __init__(self, uri, database):
        self.uri, self.database = uri, database
        self.client = MongoClient(uri)
        self.client.admin.command("ping")  # its handshake, before the first reading

    def reading(self):
        """The opcounters, and for each collection of the database its commands in all and its getMores."""
        opcounters = self.client.admin.command("serverStatus")["opcounters"]
        totals = self.client.admin.command("top")["totals"]
        prefix = f"{self.database}."
        collections = {namespace.removeprefix(prefix): (counts["total"]["count"], counts["getmore"]["count"])
                       for namespace, counts in totals.items()
                       if namespace.startswith(prefix) and not namespace.startswith(f"{prefix}$cmd")}
        return {bucket: opcounters[bucket] for bucket in BUCKETS}, collections

    def cost(self, requests, action, *args, **kwargs):
        """`action(*args, **kwargs)`, which sends `requests` requests: what it returns, and
        the commands each request cost."""
        (buckets, collections) = self.reading()
        result = action(*args, **kwargs)
        (buckets_after, collections_after) = self.reading()
        spent = {bucket: buckets_after[bucket] - buckets[bucket] for bucket in BUCKETS}
        spent["command"] -= OWN_COMMANDS
        before = {name: collections.get(name, (0, 0)) for name in collections_after}
        by_collection = {name: count - before[name][0] for name, (count, _) in sorted(collections_after.items())}
        cursors = sum(getmores - before[name][1] for name, (_, getmores) in collections_after.items())
        return result, Cost(own=sum(by_collection.values()) / requests,
                            collections={name: count / requests for name, count in by_collection.items() if count},
                            stream_getmores=(spent["getmore"] - cursors) / requests,
                            total=sum(spent.values()) / requests,
                            buckets={name: count / requests for name, count in spent.items()})

    def close(self):
        self.client.close()
