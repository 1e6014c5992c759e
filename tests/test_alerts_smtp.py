"""SMTP security: STARTTLS and implicit TLS with a private CA; login with the password from env."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl

import pytest
from alerts_fixtures import Doc, RadarBuilder, SmtpServer, accept_user, write_config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from radar.alerts import send_alerts
from radar.core import warehouse
from radar.core.config import load_config


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    c = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
         .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(
             "127.0.0.1"))]), critical=False)
         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
         .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(c.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def server_context(cert) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*map(str, cert))
    return ctx


@pytest.fixture
def one_topic(warehouse_path):
    b = RadarBuilder(warehouse_path)
    b.topic(1, "Library e-book lending", "libraries", ["e-book"], [
        Doc("city-news", "E-books", "E-book loans doubled.")])
    b.run({1: "Prepare"})


SUB = [{"email": "lib@city.example"}]


def test_starttls_with_login_from_environment(project, one_topic, cert, monkeypatch):
    srv = SmtpServer(tls_context=server_context(cert), require_starttls=True,
                     authenticator=accept_user("radar", "s3cret"), auth_required=True).start()
    try:
        write_config(project, srv.port, SUB, security="starttls", user="radar",
                     password_env="TEST_SMTP_PW", ca_file=str(cert[0]))
        cfg = load_config(project)
        monkeypatch.delenv("TEST_SMTP_PW", raising=False)
        missing = send_alerts(cfg)
        assert missing.sent == 0 and missing.queued == 1
        assert any("TEST_SMTP_PW" in e and "not set" in e for e in missing.errors)

        monkeypatch.setenv("TEST_SMTP_PW", "wrong")
        wrong = send_alerts(cfg)
        assert wrong.sent == 0 and any("login as 'radar' refused" in e for e in wrong.errors)

        monkeypatch.setenv("TEST_SMTP_PW", "s3cret")
        ok = send_alerts(cfg)
        assert ok.sent == 1 and len(srv.handler.received) == 1
    finally:
        srv.stop()
    with warehouse.read(cfg.warehouse_path) as con:
        assert con.execute("SELECT attempts FROM alert_outbox").fetchone()[0] == 3


def test_starttls_refuses_an_untrusted_certificate(project, one_topic, cert):
    srv = SmtpServer(tls_context=server_context(cert), require_starttls=True).start()
    try:
        write_config(project, srv.port, SUB, security="starttls")  # system CAs only
        s = send_alerts(load_config(project))
        assert s.sent == 0 and s.queued == 1 and srv.handler.received == []
        assert any("CERTIFICATE_VERIFY_FAILED" in e for e in s.errors)
    finally:
        srv.stop()


def test_starttls_required_but_not_offered(project, one_topic):
    srv = SmtpServer().start()
    try:
        write_config(project, srv.port, SUB, security="starttls")
        s = send_alerts(load_config(project))
        assert s.sent == 0 and any("does not offer STARTTLS" in e for e in s.errors)
        assert srv.handler.received == []
    finally:
        srv.stop()


def test_implicit_tls(project, one_topic, cert):
    srv = SmtpServer(ssl_context=server_context(cert)).start()
    try:
        write_config(project, srv.port, SUB, security="tls", ca_file=str(cert[0]))
        assert send_alerts(load_config(project)).sent == 1
        assert srv.handler.received[0].recipients == ["lib@city.example"]
    finally:
        srv.stop()
