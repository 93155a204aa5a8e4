"""Door codes: what a ticket's holder shows at the door (as text or a QR code).

Random (`secrets`), 27 characters from an alphabet of 29 without look-alikes (no 0/O,
1/I/L, U/V), so 131 bits: never derived from the ticket's `_id`, and not guessable by
scanning codes at the door (which is rate limited too). Unique by index.
"""

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
LENGTH = 27


def new_code():
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
