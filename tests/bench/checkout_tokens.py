"""Tokens for the bench's buyers, issued by the code of one checkout: `baseline.issue_tokens`
runs this file's text with `python -c` in that checkout's folder, so `ticket_api` is imported
from there (the folder a `-c` program starts in comes first on its path), not from the
tree this file is in.

    python -c "$(cat tests/bench/checkout_tokens.py)" '<app config, JSON>' '<user ids, JSON>'

Prints one JSON line: the `ticket_api` package imported (to check where it came from), and
a token for each user, in the order of the ids.
"""

import json
import sys

from bson import ObjectId
from pymongo import MongoClient

import ticket_api
from ticket_api import create_app, security


def main(config, user_ids):
    app = create_app(config)
    with MongoClient(config["MONGODB_URI"]) as client:
        users = {user["_id"]: user for user in client[config["MONGODB_DB"]].users.find(
            {"_id": {"$in": [ObjectId(user_id) for user_id in user_ids]}})}
    with app.app_context():
        tokens = [security.issue_token(users[ObjectId(user_id)]) for user_id in user_ids]
    print(json.dumps({"package": ticket_api.__file__, "tokens": tokens}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]), json.loads(sys.argv[2]))
