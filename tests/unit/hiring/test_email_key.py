"""One candidate per mailbox: which emails are one person's (hiring.domain.commands.email_key)."""

from __future__ import annotations

import pytest

from teacher_hiring.hiring.domain.commands import email_key


@pytest.mark.parametrize(
    ("email", "key"),
    [
        (" Ivan@Mail.Example ", "ivan@mail.example"),
        ("ivan+second@mail.example", "ivan@mail.example"),
        ("ivan+a+b@mail.example", "ivan@mail.example"),
        ("I.van+x@GoogleMail.com", "ivan@gmail.com"),
        ("i.v.a.n@gmail.com", "ivan@gmail.com"),
        ("i.van@mail.example", "i.van@mail.example"),  # dots matter elsewhere
        ("+tag@mail.example", "+tag@mail.example"),  # no local part left: kept whole
        ("ivan@mail+example", "ivan@mail+example"),  # a plus in the domain is no sub-address
        ("erased-c1@erased.invalid", "erased-c1@erased.invalid"),
    ],
)
def test_addresses_of_one_mailbox_have_one_key(email: str, key: str) -> None:
    assert email_key(email) == key


def test_other_mailboxes_keep_other_keys() -> None:
    keys = {email_key(e) for e in ("ivan@a.example", "ivan@b.example", "olga@a.example")}
    assert len(keys) == 3
