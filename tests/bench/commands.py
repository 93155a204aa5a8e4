"""What requests cost the database, counted by the database server itself: `serverStatus`
`opcounters` (mongod's buckets: query, insert, update, delete, getmore, command) and `top`
(commands per collection), read before and after, so the commands of every gunicorn worker
are counted; a driver's CommandListener would see one process only.

The `command` bucket also holds what no request sends: drivers' heartbeats (`hello`, about
one per client every 10 s, a handful in a measurement) and this module's own two reads,
which are taken off. `top` counts commands on a collection only, so no heartbeat; and it
lists existing collections only, so a read of one not yet created is in no collection.
"""

from dataclasses import dataclass

from pymongo import MongoClient

BUCKETS = ("query", "insert", "update", "delete", "getmore", "command")
OWN_COMMANDS = 2  # between two readings: the first one's `top`, the second one's `serverStatus`


@dataclass
class Cost:
    """Commands per request: in all, by opcounters bucket, by collection."""

    total: float
    buckets: dict
    collections: dict

    def __str__(self):
        buckets = ", ".join(f"{name} {count:.2f}" for name, count in self.buckets.items() if count >= 0.005)
        collections = ", ".join(f"{name} {count:.2f}" for name, count in self.collections.items() if count >= 0.005)
        return f"{self.total:.2f} ({buckets}; by collection: {collections or 'none'})"


class Counters:
    """The database server's command counters, read through a client of their own."""

    def __init__(self, uri, database):
        self.uri, self.database = uri, database
        self.client = MongoClient(uri)
        self.client.admin.command("ping")  # its handshake, before the first reading

    def reading(self):
        opcounters = self.client.admin.command("serverStatus")["opcounters"]
        totals = self.client.admin.command("top")["totals"]
        prefix = f"{self.database}."
        collections = {namespace.removeprefix(prefix): counts["total"]["count"]
                       for namespace, counts in totals.items() if namespace.startswith(prefix)}
        return {bucket: opcounters[bucket] for bucket in BUCKETS}, collections

    def cost(self, requests, action, *args, **kwargs):
        """`action(*args, **kwargs)`, which sends `requests` requests: what it returns, and
        the commands each request cost."""
        (buckets, collections) = self.reading()
        result = action(*args, **kwargs)
        (buckets_after, collections_after) = self.reading()
        spent = {bucket: buckets_after[bucket] - buckets[bucket] for bucket in BUCKETS}
        spent["command"] -= OWN_COMMANDS
        by_collection = {name: count - collections.get(name, 0) for name, count in collections_after.items()}
        return result, Cost(sum(spent.values()) / requests, {name: count / requests for name, count in spent.items()},
                            {name: count / requests for name, count in sorted(by_collection.items()) if count})

    def close(self):
        self.client.close()
