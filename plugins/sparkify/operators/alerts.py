"""Alerts for failed checks, through Airflow's notifiers: SMTP (providers-smtp) and a Slack incoming
webhook (providers-slack). Each channel is on when its connection exists, off otherwise:

- ``sparkify_smtp`` (type smtp): host, port, login/password; extra ``{"to": "a@x, b@y",
  "from_email": "airflow@x"}`` (plus the SMTP provider's own extras, e.g. ``disable_tls``);
- ``sparkify_slack`` (type slackwebhook): the webhook URL (or its token) as the password.

A critical failure always notifies; a warning-level failure notifies when the Variable
``sparkify_notify_warnings`` is ``true``. The message is the validation's failure message and
its Data Docs link. Lake values inside it are data: the notifiers are called without Airflow's
template rendering, the e-mail body is escaped HTML and the Slack text is escaped mrkdwn.
A channel that cannot deliver logs a warning and never changes the task's outcome.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from sparkify.quality.outcome import Summary
from sparkify.settings import OPTIONAL_VARIABLES, SLACK_CONN_ID, SMTP_CONN_ID, WARNINGS_VARIABLE
from sparkify.warehouse.connection import find_connection

if TYPE_CHECKING:
    from airflow.sdk import Context

log = logging.getLogger(__name__)


TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def warnings_wanted() -> bool:
    """The Variable sparkify_notify_warnings as a yes or no. One that cannot be read, or reads as
    neither, leaves warning alerts off and says so in the task's log, naming the Variable."""
    from airflow.sdk import Variable

    try:
        value = str(Variable.get(WARNINGS_VARIABLE, default=OPTIONAL_VARIABLES[WARNINGS_VARIABLE])).strip().lower()
    except Exception as err:  # the API server or metadata DB answered with an error: the alert is still not the task's outcome
        log.warning("Variable %s could not be read (%s: %s): warning alerts stay off.", WARNINGS_VARIABLE, type(err).__name__, err)
        return False
    if value not in TRUE + FALSE:
        log.warning("Variable %s is %r, not one of %s: warning alerts stay off.", WARNINGS_VARIABLE, value, ", ".join(TRUE + FALSE[:-1]))
    return value in TRUE


def compose(summary: Summary, *, link: str | None, critical: bool) -> tuple[str, str]:
    """(subject, plain text) of the alert for a validation summary."""
    level = "Critical validation failed" if critical else "Validation warning"
    subject = f"[sparkify] {level}: {summary.get('table')} (suite {summary.get('suite')}) on {summary.get('day')}"
    if critical:
        body = summary.get("message") or subject
    else:
        failed = [f for f in summary.get("failures", []) if f.get("severity") != "critical"]
        body = "\n".join(
            [f"{len(failed)} warning-level expectation(s) failed on {summary.get('table')}:"]
            + [f"- {f['expectation']} {f.get('kwargs', {}).get('column', '')}: {f.get('unexpected_count')} unexpected" for f in failed]
        )
    if link:
        body += f"\nData Docs page: {link}"
    return subject, body


def _slack_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def notify(summary: Summary, *, link: str | None, critical: bool, context: Context | None = None) -> list[str]:
    """Send a validation's alert on every configured channel; returns the channels that delivered it."""
    if not critical and not warnings_wanted():
        return []
    subject, text = compose(summary, link=link, critical=critical)
    return deliver(subject, text, context)


def deliver(subject: str, text: str, context: Context | None = None) -> list[str]:
    """Send one alert on every configured channel (also the day's deadline alert); returns the
    channels that delivered it."""
    from airflow.sdk import Context

    sent = []
    smtp = find_connection(SMTP_CONN_ID)
    if smtp is not None:
        try:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            extra = smtp.extra_dejson or {}
            smtp_notifier = SmtpNotifier(
                to=[a.strip() for a in str(extra.get("to", "")).split(",") if a.strip()],
                from_email=extra.get("from_email"),
                subject=subject,
                html_content=f"<pre>{html.escape(text)}</pre>",
                smtp_conn_id=SMTP_CONN_ID,
            )
            smtp_notifier.notify(context or Context())  # no template rendering: the text carries data
            sent.append("smtp")
        except Exception as err:
            log.warning("Could not send the alert by e-mail (connection %s): %s", SMTP_CONN_ID, err)
    if find_connection(SLACK_CONN_ID) is not None:
        try:
            from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

            slack_notifier = SlackWebhookNotifier(slack_webhook_conn_id=SLACK_CONN_ID, text=_slack_text(f"*{subject}*\n{text}"))
            slack_notifier.notify(context or Context())
            sent.append("slack")
        except Exception as err:
            log.warning("Could not send the alert to Slack (connection %s): %s", SLACK_CONN_ID, err)
    return sent
