"""SMTP delivery: plain, STARTTLS or implicit TLS, with optional login.

The password is read from the environment variable named in `[smtp] password_env`,
never from radar.toml. STARTTLS is required when asked for: a server that does not
offer it is an error, never a silent fall-back to plain text.

Errors are classified so the outbox knows what to do:
- `rejected` with `permanent=True`: the server refused for good (5xx): fail the message;
- `rejected` with `permanent=False`: temporary refusal or no connection: retry later;
- `ambiguous=True`: the connection broke after the message was handed over with
  DATA, so the server may have accepted it: never resend automatically.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Callable
from pathlib import Path

from radar.core.config import SmtpConfig


class DeliveryError(Exception):
    """A message (or the whole connection) could not be delivered."""

    def __init__(self, message: str, *, permanent: bool = False, ambiguous: bool = False,
                 connection: bool = False):
        super().__init__(message)
        self.permanent = permanent
        self.ambiguous = ambiguous
        self.connection = connection  # the session is unusable: stop this run's deliveries


def password(cfg: SmtpConfig) -> str | None:
    """The SMTP password from the environment, or None when no login is configured."""
    if not cfg.user:
        return None
    value = os.environ.get(cfg.password_env) if cfg.password_env else None
    if not value:
        raise DeliveryError(
            f"[smtp] user is {cfg.user!r} but the environment variable "
            f"{cfg.password_env or '(password_env is empty)'} holding the password is not set",
            connection=True,
        )
    return value


def tls_context(cfg: SmtpConfig, base_dir: Path | None = None) -> ssl.SSLContext:
    """A verifying TLS context, trusting `[smtp] ca_file` too when set."""
    cafile = None
    if cfg.ca_file:
        p = Path(cfg.ca_file).expanduser()
        cafile = str(p if p.is_absolute() or base_dir is None else base_dir / p)
    return ssl.create_default_context(cafile=cafile)


def _reply(code: int, resp: bytes | str) -> str:
    text = resp.decode("utf-8", "replace") if isinstance(resp, bytes) else str(resp)
    return f"{code} {' '.join(text.split())}"


class Mailer:
    """One SMTP session; use as a context manager, then `send` messages through it."""

    def __init__(self, cfg: SmtpConfig, base_dir: Path | None = None):
        self.cfg = cfg
        self.base_dir = base_dir
        self.smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        cfg = self.cfg
        secret = password(cfg)
        try:
            if cfg.security == "tls":
                self.smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                             context=tls_context(cfg, self.base_dir))
            else:
                self.smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            self.smtp.ehlo()
            if cfg.security == "starttls":
                if not self.smtp.has_extn("starttls"):
                    raise DeliveryError(f"{cfg.host}:{cfg.port} does not offer STARTTLS "
                                        "([smtp] security = \"starttls\")", connection=True)
                self.smtp.starttls(context=tls_context(cfg, self.base_dir))
                self.smtp.ehlo()
            if secret is not None:
                self.smtp.login(cfg.user, secret)
        except DeliveryError:
            self._close()
            raise
        except smtplib.SMTPAuthenticationError as exc:
            self._close()
            raise DeliveryError(f"SMTP login as {cfg.user!r} refused: "
                                f"{_reply(exc.smtp_code, exc.smtp_error)}", connection=True) from exc
        except smtplib.SMTPException as exc:
            self._close()
            raise DeliveryError(f"SMTP session with {cfg.host}:{cfg.port} failed: {exc}",
                                connection=True) from exc
        except OSError as exc:  # refused, unreachable, timeout, TLS handshake or certificate
            self._close()
            raise DeliveryError(f"cannot reach SMTP server {cfg.host}:{cfg.port}: {exc}",
                                connection=True) from exc
        return self

    def __exit__(self, *exc_info) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._close()

    def _close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            except OSError:
                pass
            self.smtp = None

    def send(self, sender: str, recipient: str, raw: str, before_data: Callable[[], None]) -> str:
        """Send one message; `before_data` runs after MAIL/RCPT succeed, right before DATA.

        Returns the server's reply accepting the message (e.g. `250 OK queued as X`).
        """
        smtp = self.smtp
        if smtp is None:
            raise DeliveryError("no SMTP session", connection=True)
        try:
            code, resp = smtp.mail(sender)
            if code != 250:
                self._rset()
                raise DeliveryError(f"sender refused: {_reply(code, resp)}", permanent=code >= 500)
            code, resp = smtp.rcpt(recipient)
            if code not in (250, 251):
                self._rset()
                raise DeliveryError(f"recipient {recipient} refused: {_reply(code, resp)}",
                                    permanent=code >= 500)
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise DeliveryError(f"connection lost before the message was sent: {exc}",
                                connection=True) from exc
        try:
            before_data()
        except BaseException:
            self._rset()
            raise
        try:
            code, resp = smtp.data(raw.encode("ascii"))
        except smtplib.SMTPDataError as exc:
            # The server answered and said no: it did not take the message.
            raise DeliveryError(f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from exc
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}",
                                permanent=exc.smtp_code >= 500) from exc
        except (TimeoutError, smtplib.SMTPServerDisconnected, OSError) as exc:
            raise DeliveryError(
                f"connection lost while the message was being handed over: {exc}; the server "
                "may have accepted it", ambiguous=True, connection=True) from exc
        return _reply(code, resp)

    def _rset(self) -> None:
        try:
            if self.smtp is not None:
                self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            pass
