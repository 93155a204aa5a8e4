"""Email addresses in their one spelling: what accounts are keyed by, so that no two
spellings of one address, and no lookalike of another, make two accounts."""

import re
import unicodedata

import idna
import marshmallow as ma

# Characters that show as nothing, or as something else, on a screen: an email holding one
# is a lookalike of another (zero-width space, soft hyphen, bidi controls, fillers...).
INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"}
DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
INVISIBLE_CHARACTER = "No invisible or control characters."
ASCII_LOCAL_PART = "Before the @ only ASCII letters, digits and punctuation."
INVALID_DOMAIN = "Not a valid domain name."


def has_invisible(text):
    return bool(DEFAULT_IGNORABLE.search(text)) or any(
        unicodedata.category(character) in INVISIBLE_CATEGORIES for character in text
    )


def normalized_email(text):
    """The one ASCII, lowercase spelling of an email address, its domain IDNA 2008 encoded
    (docs/design.md, "Email addresses"). :raise ValueError: the message says what is refused."""
    if has_invisible(text):
        raise ValueError(INVISIBLE_CHARACTER)
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()  # not an email at all: the Email validator says so
    if not local.isascii():
        raise ValueError(ASCII_LOCAL_PART)
    try:
        domain = idna.encode(domain, uts46=True).decode("ascii")
    except UnicodeError:  # idna.IDNAError included
        raise ValueError(INVALID_DOMAIN) from None
    return f"{local}@{domain}".lower()


class LowercaseEmail(ma.fields.Email):
    """An email address in its one spelling (`normalized_email`), then checked as an email."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return normalized_email(super()._deserialize(value, attr, data, **kwargs))
        except ValueError as error:
            raise ma.ValidationError(str(error)) from None
