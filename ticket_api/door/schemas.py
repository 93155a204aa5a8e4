"""What a scan sends, what the door is told, and an event's counts at the door."""

import marshmallow as ma

from ..schemas import ObjectIdField, ReplySchema, Schema, UtcDateTime
from ..tickets.schemas import HolderSchema, NotAdmissibleSchema

RESULTS = ["admitted", "already_checked_in", "not_admissible", "wrong_event", "unknown_code"]


class CheckinSchema(Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64),
                            metadata={"description": "The ticket's door code, as scanned or typed (any case)",
                                      "example": "K7QX3MZ9R2HT5WNB8CDE4FGJ6PA"})
    eventId = ObjectIdField(load_default=None, metadata={
        "description": "The event being scanned for: a ticket of another is refused (`wrong_event`)"})
    scanId = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64), metadata={
        "description": "The scanner's id for this scan: the scan retried with it gets its `admitted` again",
        "example": "scan-3f9c2a"})


class EventShownSchema(ReplySchema):
    id = ObjectIdField(data_key="_id", attribute="_id")
    name = ma.fields.String(metadata={"example": "Jazz night"})
    date = UtcDateTime()


class AdmittedTicketSchema(ReplySchema):
    id = ObjectIdField(data_key="_id", attribute="_id")
    quantity = ma.fields.Integer(metadata={"description": "Seats: one scan admits them all", "example": 2})
    holder = ma.fields.Nested(HolderSchema, allow_none=True)
    event = ma.fields.Nested(EventShownSchema, allow_none=True)


class AdmissionSchema(ReplySchema):
    result = ma.fields.String(metadata={"enum": ["admitted"]})
    ticket = ma.fields.Nested(AdmittedTicketSchema)
    checkedInAt = UtcDateTime()


class RefusalSchema(NotAdmissibleSchema):
    """A refused scan: the error body, with what the door needs to say why."""

    checkedInAt = UtcDateTime(metadata={"description": "`already_checked_in`: when it was"})


class ScanSchema(ReplySchema):
    result = ma.fields.String(metadata={"enum": RESULTS})
    ticket = ObjectIdField(allow_none=True, metadata={"description": "null for an unknown code"})
    quantity = ma.fields.Integer(allow_none=True, metadata={"example": 2})
    at = UtcDateTime()
    by = ObjectIdField(metadata={"description": "The account that scanned"})
    scanId = ma.fields.String(allow_none=True, metadata={"example": "scan-3f9c2a"})


class DoorCountsSchema(ReplySchema):
    expected = ma.fields.Integer(metadata={"description": "Seats of the event's confirmed tickets", "example": 240})
    admitted = ma.fields.Integer(metadata={"description": "Those of them checked in", "example": 180})
    recent = ma.fields.List(ma.fields.Nested(ScanSchema), metadata={"description": "The last 20 scans, newest first"})
