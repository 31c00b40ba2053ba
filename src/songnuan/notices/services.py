"""Writing notices and mailing them.

A notice is written in the transaction of what it tells about (a table returned is never announced by a
transition that rolled back); the e-mail goes after the commit, through Django's default mailer (settings
`MAILERS`; the console by default), and a failure to send is logged, never undoing the transition.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from songnuan.campaigns.models import Campaign
from songnuan.notices.models import Notice
from songnuan.notices.selectors import notice_of, reporters_of
from songnuan.orgs.models import Unit

logger = logging.getLogger(__name__)

#: Kinds sent once per person, campaign and unit (the deadline command may run every day, or twice).
ONCE_KINDS = (Notice.Kind.DEADLINE_SOON, Notice.Kind.OVERDUE)


def notify(
    kind: Notice.Kind,
    *,
    unit: Unit,
    text: str,
    campaign: Campaign | None = None,
    form_code: str = "",
    link: str = "",
    recipients: Iterable[User] | None = None,
) -> list[Notice]:
    """Tell the people who fill `unit`'s tables (or `recipients`): one notice each, and an e-mail to those
    with an address once the transaction commits. A kind of `ONCE_KINDS` already sent to a person for this
    campaign and unit is not sent again. Returns the notices written."""
    people = list(recipients) if recipients is not None else reporters_of(unit)
    written: list[Notice] = []
    for person in people:
        notice = Notice(
            recipient=person,
            kind=kind,
            campaign=campaign,
            unit=unit,
            form_code=form_code,
            text=text,
            link=link,
        )
        if kind in ONCE_KINDS:
            if Notice.objects.filter(recipient=person, kind=kind, campaign=campaign, unit=unit).exists():
                continue
            try:
                with transaction.atomic():
                    notice.save()
            except IntegrityError:
                continue  # another run wrote it in between
        else:
            notice.save()
        written.append(notice)
    mails = [(n.recipient.email, _subject(n), _body(n)) for n in written if n.recipient.email]
    if mails:
        transaction.on_commit(lambda: send_mails(mails))
    return written


def _subject(notice: Notice) -> str:
    return _("【送温暖】{kind}：{unit}").format(
        kind=notice.get_kind_display(), unit=notice.unit.name if notice.unit else ""
    )


def _body(notice: Notice) -> str:
    lines = [notice.text]
    if notice.link:
        lines += ["", _("查看：{url}").format(url=settings.SONGNUAN_SITE_URL.rstrip("/") + notice.link)]
    lines += ["", _("（本邮件由送温暖统计报表系统自动发送，请勿回复。）")]
    return "\n".join(lines)


def send_mails(mails: Iterable[tuple[str, str, str]]) -> int:
    """Send (address, subject, body) one by one; a failure is logged and the others still go. The number
    sent."""
    sent = 0
    for address, subject, body in mails:
        try:
            sent += EmailMessage(subject, body, to=[address]).send()
        except Exception:  # any backend error (SMTP down, refused address) is only logged
            logger.warning("notice e-mail to %s failed", address, exc_info=True)
    return sent


def mark_read(*, user: User, notice_id: int) -> Notice:
    """Mark the user's own notice read; Notice.DoesNotExist for anyone else's (the page answers 404)."""
    notice = notice_of(user, notice_id).get()
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    return notice


def mark_all_read(*, user: User) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
