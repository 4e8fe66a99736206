"""People with a web token of their own (``museforge users add NAME``). A part of
``Store``, kept apart from the queries the conversation makes.

Each person is the user ``web``/``name`` in the store, with their own sessions, artworks
and place in the job queue. Their token is ``mf_<lookup>_<secret>``: ``lookup`` (16 hex
digits, no secret) finds the row; the secret (32 random bytes) is kept only as an
HMAC-SHA256 keyed by a random salt of the row's own, and compared in constant time. A
slow hash (scrypt) would add nothing against guessing 256 random bits, and would cost
every request it checks. A token is shown once, when it is made, and never again."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from museforge.storage.errors import AlreadyExists, InvalidName, NotFound
from museforge.storage.models import WEB_PLATFORM, UserRef, WebAccount
from museforge.storage.schema import ChatSession, User, UserToken, utcnow

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TOKEN = re.compile(r"^mf_([0-9a-f]{16})_([A-Za-z0-9_-]{20,100})$")
DIGEST_KIND = "hmac-sha256"


def _digest(salt: str, secret: str) -> str:
    mac = hmac.new(bytes.fromhex(salt), secret.encode(), hashlib.sha256).hexdigest()
    return f"{DIGEST_KIND}:{mac}"


def _new_token() -> tuple[str, str, str, str]:
    """(token, lookup, salt, digest)."""
    lookup, secret, salt = secrets.token_hex(8), secrets.token_urlsafe(32), secrets.token_hex(16)
    return f"mf_{lookup}_{secret}", lookup, salt, _digest(salt, secret)


def account_key(name: str) -> str:
    """The store's external id for the person called ``name`` ('Alice' is 'alice')."""
    name = name.strip()
    if not NAME.match(name):
        shown = name if len(name) <= 40 else name[:40] + "…"
        raise InvalidName(f"'{shown}' is not a name for a person: use 1 to 64 letters, digits, "
                          "'.', '-' or '_', starting with a letter or digit")
    return name.lower()


class Accounts:
    _read: Callable[[Callable[[Session], Any]], Any]
    _write: Callable[[Callable[[Session], Any]], Any]
    _insert: Callable[[type], Any]

    def add_web_user(self, name: str) -> tuple[UserRef, str]:
        """A new person and their first token (the token, to show once). AlreadyExists if
        they were given a token before, revoked or not."""
        key = account_key(name)

        def op(s: Session) -> tuple[UserRef, str]:
            s.execute(self._insert(User)
                      .values(platform=WEB_PLATFORM, external_id=key, display_name=name.strip(),
                              created_at=utcnow())
                      .on_conflict_do_nothing(index_elements=["platform", "external_id"]))
            row = self._web_user_row(s, key, lock=True)
            if s.scalars(select(UserToken.id).where(UserToken.user_id == row.id)).first():
                raise AlreadyExists(f"'{row.display_name}' already has an account; `museforge "
                                    f"users token {row.display_name}` gives them a new token")
            row.display_name = name.strip()
            return _ref(row), self._issue(s, row)

        return self._write(op)  # type: ignore[no-any-return]

    def issue_web_token(self, name: str) -> tuple[UserRef, str]:
        """A new token for the person, whose other tokens stop working; a removed person
        gets their access (and their sessions) back. NotFound for a name never added."""
        key = account_key(name)

        def op(s: Session) -> tuple[UserRef, str]:
            row = self._account_row(s, key, name)
            self._revoke_all(s, row.id)
            return _ref(row), self._issue(s, row)

        return self._write(op)  # type: ignore[no-any-return]

    def revoke_web_user(self, name: str) -> int:
        """Revoke every token of the person (their work stays in the store); how many
        were still valid. NotFound for a name never added."""
        key = account_key(name)

        def op(s: Session) -> int:
            return self._revoke_all(s, self._account_row(s, key, name).id)

        return self._write(op)  # type: ignore[no-any-return]

    def web_accounts(self) -> list[WebAccount]:
        """Everyone who was ever given a token, by name."""

        def op(s: Session) -> list[WebAccount]:
            tokens = (select(UserToken.user_id, func.count().label("n"),
                             func.count(UserToken.id).filter(UserToken.revoked_at.is_(None))
                             .label("live"),
                             func.min(UserToken.created_at).label("first"),
                             func.max(UserToken.revoked_at).label("revoked"))
                      .group_by(UserToken.user_id).subquery())
            sessions = (select(ChatSession.owner_id, func.count().label("n"))
                        .group_by(ChatSession.owner_id).subquery())
            rows = s.execute(
                select(User, tokens.c.n, tokens.c.live, tokens.c.first, tokens.c.revoked,
                       func.coalesce(sessions.c.n, 0))
                .join(tokens, tokens.c.user_id == User.id)
                .outerjoin(sessions, sessions.c.owner_id == User.id)
                .where(User.platform == WEB_PLATFORM)
                .order_by(User.external_id))
            return [WebAccount(_ref(u), u.display_name or u.external_id, live > 0, n, count,
                               _utc(first) or utcnow(), None if live else _utc(revoked))
                    for u, n, live, first, revoked, count in rows]

        return self._read(op)  # type: ignore[no-any-return]

    def web_accounts_exist(self) -> bool:
        """Whether anyone holds a token that is not revoked (the web then asks for one)."""
        return bool(self._read(lambda s: s.scalars(
            select(UserToken.id).where(UserToken.revoked_at.is_(None)).limit(1)).first()))

    def authenticate_web_token(self, token: str) -> UserRef | None:
        """The person whose valid token this is; None for anything else (malformed,
        unknown, revoked, or a wrong secret)."""
        m = TOKEN.match(token.strip())
        if m is None:
            return None
        lookup, secret = m.groups()

        def op(s: Session) -> UserRef | None:
            found = s.execute(select(UserToken, User).join(User, User.id == UserToken.user_id)
                              .where(UserToken.lookup == lookup,
                                     UserToken.revoked_at.is_(None))).first()
            if found is None:
                return None
            tok, user = found
            if not hmac.compare_digest(_digest(tok.salt, secret).encode(), tok.digest.encode()):
                return None
            return _ref(user)

        return self._read(op)  # type: ignore[no-any-return]

    # -- rows -------------------------------------------------------------------------

    def _web_user_row(self, s: Session, key: str, lock: bool = False) -> User:
        q = select(User).where(User.platform == WEB_PLATFORM, User.external_id == key)
        if lock and s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update()  # two `users add` of one name: the second waits, refuses
        return s.scalars(q).one()

    def _account_row(self, s: Session, key: str, name: str) -> User:
        q = (select(User).join(UserToken, UserToken.user_id == User.id)
             .where(User.platform == WEB_PLATFORM, User.external_id == key).limit(1))
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(of=User)
        row = s.scalars(q).first()
        if row is None:
            raise NotFound(f"no person called '{name.strip()}' (museforge users list shows "
                           "them; museforge users add NAME adds one)")
        return row

    @staticmethod
    def _issue(s: Session, user: User) -> str:
        token, lookup, salt, digest = _new_token()
        s.add(UserToken(user_id=user.id, lookup=lookup, salt=salt, digest=digest,
                        created_at=utcnow()))
        s.flush()
        return token

    @staticmethod
    def _revoke_all(s: Session, user_id: int) -> int:
        live = list(s.scalars(select(UserToken).where(UserToken.user_id == user_id,
                                                      UserToken.revoked_at.is_(None))))
        now = utcnow()
        for tok in live:
            tok.revoked_at = now
        s.flush()
        return len(live)


def _ref(row: User) -> UserRef:
    return UserRef(row.id, row.platform, row.external_id, row.display_name)


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's min()/max() of a DateTime column is its text
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
