"""How long each string the store keeps may be, and how many of each kind a record holds.

Codat states some limits (tags: at most 10, keys of 1 to 27 characters, values of at most
100); where it states none, the mock picks a bound far above any real value and far below
what would let one client fill the process's memory. The README's "Limits" section lists
them all. An over-long value is a 400 that names the field, whichever door it came through
(the API, the control API, a snapshot).
"""

from __future__ import annotations

from mockserver.errors import BadRequest, ValidationItem

#: A company's name (create-company, or a merchant identifier that names a company).
MAX_COMPANY_NAME = 255
#: A company's free-text description.
MAX_DESCRIPTION = 2_000
#: Tags, as Codat documents them.
MAX_TAGS = 10
MAX_TAG_KEY = 27
MAX_TAG_VALUE = 100
#: One Sync Flow text (update-config-text-sync-flow).
MAX_TEXT = 1_000
#: Visible accounts per platform, and the length of each account name.
MAX_VISIBLE_ACCOUNTS = 1_000
MAX_ACCOUNT_NAME = 255
#: Authorization values per connection, and the length of each key (values are not kept).
MAX_AUTH_KEYS = 50
MAX_AUTH_KEY = 255
#: A sync outcome's message forced through the control API.
MAX_MESSAGE = 1_000
#: A platform's name, key or id, and a client's id, as a snapshot carries them.
MAX_LABEL = 255


def check_length(value: str, field: str, limit: int) -> str:
    """``value`` if it has at most ``limit`` characters; a 400 naming ``field`` otherwise."""
    if len(value) > limit:
        raise too_long(field, limit, len(value))
    return value


def too_long(field: str, limit: int, given: int) -> BadRequest:
    """The 400 for a value of ``given`` characters where ``limit`` is the most allowed."""
    return BadRequest(
        f"{field} is longer than {limit} characters.",
        validation=[ValidationItem(field, f"At most {limit} characters ({given} given).")],
    )


def check_count(count: int, field: str, limit: int, what: str) -> None:
    """A 400 naming ``field`` when it holds more than ``limit`` ``what``."""
    if count > limit:
        raise BadRequest(
            f"{field} holds more than {limit} {what}.",
            validation=[ValidationItem(field, f"At most {limit} {what} ({count} given).")],
        )
