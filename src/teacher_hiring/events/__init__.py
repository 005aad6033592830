"""What the events themselves say beyond their schemas, one module per producing service.

schemas/ holds each event's versions; these modules hold the rules that come with them and
that their consumers share: how an old version reads as the next one (`exercises`: exercises
and managers; `hiring`: leak reports), and the columns every copy of a manager keeps
(`managers`). They import only the messaging plumbing (and SQLAlchemy), and every service may
import them, since a consumer may not import its producer's package.
"""
