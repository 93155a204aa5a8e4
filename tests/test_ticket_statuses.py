"""A ticket's statuses change only as `stores.tickets.TRANSITIONS` says (README, "A ticket's life")."""

import pytest

from ticket_api.sales.refunds import REFUNDED_FROM_OWN, REFUNDED_FROM_STRAY
from ticket_api.stores.tickets import HOLDING, TRANSITIONS, Status, leaving


def test_every_status_has_its_row_and_refunded_is_final():
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.REFUNDED] == set()


@pytest.mark.parametrize(("status", "to"), [(status, to) for status in Status for to in sorted(TRANSITIONS[status])])
def test_a_write_may_make_each_change_of_the_table(status, to):
    assert leaving(status, to) == status


@pytest.mark.parametrize(("status", "to"), [(Status.REFUNDED, Status.CONFIRMED), (Status.CONFIRMED, Status.EXPIRED),
                                            (Status.CANCELLED, Status.CONFIRMED), (Status.EXPIRED, Status.PENDING)])
def test_a_write_of_a_change_the_table_lacks_is_refused(status, to):
    with pytest.raises(ValueError, match=f"from {status} to {to}"):
        leaving(status, to)


def test_stray_money_never_ends_a_ticket_that_holds_seats():
    assert set(REFUNDED_FROM_STRAY) <= set(REFUNDED_FROM_OWN)
    assert not set(REFUNDED_FROM_STRAY) & set(HOLDING)
