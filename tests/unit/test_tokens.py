"""Minting and verifying the platform's bearer tokens: every way a token can be refused."""

from __future__ import annotations

import time
from unittest import mock

import jwt
import pytest

from teacher_hiring.runtime.tokens import (
    ISSUER,
    SERVICE_NAMES,
    VERIFIED_CACHE_SIZE,
    AcceptedKey,
    InvalidToken,
    Role,
    ServiceToken,
    Tokens,
    key_id,
)

SECRET = "a-secret-of-at-least-thirty-two-bytes"
tokens = Tokens(SECRET)


def raw(
    claims: dict[str, object],
    secret: str = SECRET,
    algorithm: str = "HS256",
    kid: str | None = key_id(SECRET),
) -> str:
    return jwt.encode(claims, secret, algorithm=algorithm, headers={"kid": kid} if kid else None)


def full_claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": "c-1",
        "role": "candidate",
        "iat": now,
        "exp": now + 60,
        "iss": ISSUER,
        "aud": ["hiring"],
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


@pytest.mark.parametrize("role", list(Role))
def test_a_minted_token_verifies_to_its_subject_role_and_lifetime(role: Role) -> None:
    claims = tokens.verify(tokens.mint(role, "someone", 120, now=time.time()))

    assert (claims.subject, claims.role, claims.issuer) == ("someone", role, ISSUER)
    assert claims.expires_at - claims.issued_at == 120


def test_an_expired_token_is_refused() -> None:
    token = tokens.mint(Role.operator, "op", 60, now=time.time() - 3600)

    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token)


def test_a_token_expired_within_the_clock_leeway_still_passes() -> None:
    token = tokens.mint(Role.operator, "op", 60, now=time.time() - 65)

    assert tokens.verify(token).subject == "op"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = Tokens("another-secret-of-thirty-two-bytes-or-more").mint(Role.operator, "op", 60)

    with pytest.raises(InvalidToken, match="a key this service does not accept"):
        tokens.verify(forged)


def test_a_token_naming_the_platforms_key_but_signed_with_another_is_refused() -> None:
    forged = raw(full_claims(role="operator"), secret="another-secret-of-thirty-two-bytes!")

    with pytest.raises(InvalidToken, match="bad signature"):
        tokens.verify(forged)


def test_a_token_without_a_key_id_is_refused() -> None:
    with pytest.raises(InvalidToken, match="no key id"):
        tokens.verify(raw(full_claims(), kid=None))


def test_a_token_names_the_key_it_was_signed_with_not_the_secret() -> None:
    header = jwt.get_unverified_header(tokens.mint(Role.operator, "op", 60))

    assert header["kid"] == key_id(SECRET) == tokens.kid
    assert SECRET not in header["kid"] and len(header["kid"]) == 16


def test_a_token_with_a_changed_payload_is_refused() -> None:
    header, _payload, signature = tokens.mint(Role.candidate, "c-1", 60).split(".")
    _, promoted, _ = tokens.mint(Role.operator, "c-1", 60).split(".")

    with pytest.raises(InvalidToken, match="bad signature"):
        tokens.verify(f"{header}.{promoted}.{signature}")


def test_a_token_of_another_issuer_is_refused() -> None:
    with pytest.raises(InvalidToken, match="wrong issuer"):
        tokens.verify(raw(full_claims(iss="another-platform")))


def test_a_token_with_an_unknown_role_is_refused() -> None:
    with pytest.raises(InvalidToken, match="unknown role 'admin'"):
        tokens.verify(raw(full_claims(role="admin")))


@pytest.mark.parametrize("claim", ["sub", "role", "iat", "exp", "iss", "aud"])
def test_a_token_lacking_a_claim_is_refused(claim: str) -> None:
    with pytest.raises(InvalidToken, match=f"no '{claim}' claim"):
        tokens.verify(raw(full_claims(**{claim: None})))


def test_an_unsigned_token_is_refused() -> None:
    unsigned = raw(full_claims(role="operator"), secret="", algorithm="none")

    with pytest.raises(InvalidToken, match="HS256"):
        tokens.verify(unsigned)


def test_a_token_issued_in_the_future_is_refused() -> None:
    later = int(time.time()) + 3600

    with pytest.raises(InvalidToken, match="future"):
        tokens.verify(raw(full_claims(iat=later, exp=later + 60)))


@pytest.mark.parametrize("text", ["", "not-a-token", "a.b.c"])
def test_text_that_is_no_token_is_refused(text: str) -> None:
    with pytest.raises(InvalidToken, match="token: "):
        tokens.verify(text)


def test_a_secret_shorter_than_32_bytes_cannot_sign() -> None:
    with pytest.raises(ValueError, match="shorter than 32 bytes"):
        Tokens("x" * 31)


@pytest.mark.parametrize(("subject", "ttl"), [("", 60), ("op", 0), ("op", -5)])
def test_a_token_needs_a_subject_and_a_positive_lifetime(subject: str, ttl: float) -> None:
    with pytest.raises(ValueError, match=r"^(subject|ttl): "):
        tokens.mint(Role.operator, subject, ttl)


def test_a_service_token_is_reused_then_minted_again_past_half_its_life() -> None:
    service_token = ServiceToken(tokens, "hiring", "bonus", ttl_s=100)
    start = time.time() - 60  # every token minted below is valid now
    with mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=start):
        first = service_token.token()
    with mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=start + 49):
        assert service_token.token() == first
    with mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=start + 51):
        renewed = service_token.token()

    assert renewed != first
    claims = tokens.verify(renewed)
    assert (claims.role, claims.subject, claims.audience) == (Role.service, "hiring", ("bonus",))
    assert service_token.headers() == {"Authorization": f"Bearer {renewed}"}


def test_a_token_verified_before_is_refused_once_its_time_is_up() -> None:
    verifier = Tokens(SECRET)
    now = time.time()
    token = verifier.mint(Role.candidate, "c-1", 60, now=now)
    assert verifier.verify(token).subject == "c-1"  # now remembered as verified

    expiry = int(now) + 60 + verifier.leeway_s
    with mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=expiry - 0.5):
        assert verifier.verify(token).subject == "c-1"
    with (
        mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=expiry),
        pytest.raises(InvalidToken, match="expired"),
    ):
        verifier.verify(token)


def test_a_refused_token_stays_refused() -> None:
    verifier = Tokens(SECRET)
    forged = raw(full_claims(), secret="another-secret-of-thirty-two-bytes!")
    for _ in range(2):
        with pytest.raises(InvalidToken, match="bad signature"):
            verifier.verify(forged)


def test_the_verified_tokens_kept_are_bounded() -> None:
    verifier = Tokens(SECRET)
    for n in range(VERIFIED_CACHE_SIZE + 10):
        verifier.verify(verifier.mint(Role.candidate, f"c-{n}", 60))

    assert len(verifier._verified) <= VERIFIED_CACHE_SIZE


# -- audience ---------------------------------------------------------------------------------

OLD = "the-previous-secret-of-thirty-two-bytes"
NEW = "the-current-secret-of-thirty-two-bytes!"


def test_a_token_for_one_service_is_refused_by_another() -> None:
    token = tokens.mint(Role.service, "exercises", 60, audience="hiring")

    assert Tokens(SECRET, audience="hiring").verify(token).audience == ("hiring",)
    with pytest.raises(InvalidToken, match=r"not for this service \(its audience is hiring; "):
        Tokens(SECRET, audience="bonus").verify(token)


def test_a_token_names_every_service_unless_told_otherwise() -> None:
    token = tokens.mint(Role.operator, "op", 60)

    for service in SERVICE_NAMES:
        assert Tokens(SECRET, audience=service).verify(token).subject == "op"


@pytest.mark.parametrize("audience", ["", [], ["hiring", ""]])
def test_a_token_names_at_least_one_audience(audience: object) -> None:
    with pytest.raises(ValueError, match="audience: "):
        tokens.mint(Role.operator, "op", 60, audience=audience)  # type: ignore[arg-type]


def test_an_audience_given_as_one_string_is_understood() -> None:
    token = raw(full_claims(aud="bonus"))

    assert Tokens(SECRET, audience="bonus").verify(token).audience == ("bonus",)


# -- key rotation -----------------------------------------------------------------------------


def test_a_token_of_the_previous_key_passes_until_its_acceptance_ends_then_is_refused() -> None:
    now = time.time()
    until = now + 600
    old_token = Tokens(OLD).mint(Role.candidate, "c-1", 3600, now=now, audience="hiring")
    rotated = Tokens(NEW, accepted_keys=(AcceptedKey(OLD, until),), audience="hiring")

    assert rotated.verify(old_token).subject == "c-1"
    with mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=until - 1):
        assert rotated.verify(old_token).subject == "c-1"  # remembered, and still accepted
    with (
        mock.patch("teacher_hiring.runtime.tokens.time.time", return_value=until),
        pytest.raises(InvalidToken, match="retired key"),
    ):
        rotated.verify(old_token)
    with pytest.raises(InvalidToken, match="does not accept"):
        Tokens(NEW, audience="hiring").verify(old_token)  # once the old key is removed


def test_new_tokens_are_signed_with_the_current_key() -> None:
    rotated = Tokens(NEW, accepted_keys=(AcceptedKey(OLD, time.time() + 600),))
    token = rotated.mint(Role.operator, "op", 60)

    assert jwt.get_unverified_header(token)["kid"] == key_id(NEW) != key_id(OLD)
    assert Tokens(NEW).verify(token).subject == "op"
    with pytest.raises(InvalidToken, match="does not accept"):
        Tokens(OLD).verify(token)


def test_the_next_key_accepted_before_it_signs_lets_a_rotation_roll_out() -> None:
    """Step 1 gives every service the next key to accept; step 2 signs with it: a service
    still at step 1 accepts what one at step 2 minted, and the other way round."""
    at_step_1 = Tokens(OLD, accepted_keys=(AcceptedKey(NEW),))
    at_step_2 = Tokens(NEW, accepted_keys=(AcceptedKey(OLD, time.time() + 600),))

    assert at_step_1.verify(at_step_2.mint(Role.operator, "op", 60)).subject == "op"
    assert at_step_2.verify(at_step_1.mint(Role.operator, "op", 60)).subject == "op"


# -- revocation -------------------------------------------------------------------------------


def test_a_revoked_subjects_tokens_minted_until_the_revocation_are_refused() -> None:
    now = time.time()
    revoked = {(Role.candidate, "c-1"): now}
    verifier = Tokens(SECRET, not_before=lambda role, subject: revoked.get((role, subject)))
    before = tokens.mint(Role.candidate, "c-1", 600, now=now - 5)
    after = tokens.mint(Role.candidate, "c-1", 600, now=now + 2)

    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(before)
    assert verifier.verify(after).subject == "c-1"
    assert verifier.verify(tokens.mint(Role.candidate, "c-2", 600, now=now - 5)).subject == "c-2"
    assert verifier.verify(tokens.mint(Role.manager, "c-1", 600, now=now - 5)).subject == "c-1"


def test_a_token_verified_before_its_revocation_is_refused_after_it() -> None:
    revoked: dict[tuple[Role, str], float] = {}
    verifier = Tokens(SECRET, not_before=lambda role, subject: revoked.get((role, subject)))
    token = verifier.mint(Role.manager, "m-1", 600, now=time.time() - 5)
    assert verifier.verify(token).subject == "m-1"  # remembered as verified

    revoked[Role.manager, "m-1"] = time.time()

    with pytest.raises(InvalidToken, match="revoked"):
        verifier.verify(token)
