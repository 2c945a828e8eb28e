"""An email backend that discards every message (the outbox scenario): nothing kept, nothing sent.

Django's ``locmem`` backend keeps every message in memory (10,000 of them would weigh on the
figures) and ``dummy`` is the same as this one but says nothing of why; this one is named for
what the benchmark needs: a backend whose own cost is nil.
"""

from __future__ import annotations

from django.core.mail.backends.base import BaseEmailBackend


class NullEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages) -> int:
        return len(list(email_messages or []))
