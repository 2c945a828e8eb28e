"""The session store: Django's database sessions, remembering when the stored row expires.

``SessionRefreshMiddleware`` reads ``stored_expiry`` to push the idle timeout forward at most
once a minute, instead of writing the session row on every request (SESSION_SAVE_EVERY_REQUEST
costs three queries a page: a savepoint, the UPDATE and its release).
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.sessions.backends import db


class SessionStore(db.SessionStore):
    stored_expiry: datetime | None = None

    def _get_session_from_db(self):
        session = super()._get_session_from_db()
        self.stored_expiry = session.expire_date if session is not None else None
        return session
