"""A private CA and a server certificate for 127.0.0.1, so the sandbox can speak https.

MSAL only accepts https authorities, so the Entra ID stand-in (and with it the Web API) needs TLS. The
connector trusts the CA through TLS_CA_BUNDLE; nothing is added to the machine's trust store. Files are
reused while valid so a browser exception or a configured bundle survives restarts of `make run`."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_FILE = "sandbox-ca.pem"
CERT_FILE = "sandbox-server.pem"
KEY_FILE = "sandbox-server-key.pem"
# `*.contoso.test`: the on-premises organisation's own host (onprem.py's IFD form)
DNS_NAMES = ("localhost", "*.contoso.test")
RENEW_BEFORE = dt.timedelta(days=7)  # renew early so a long-running sandbox never crosses an expiry
_PUBLIC_FORMAT = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass
class SandboxCertificate:
    ca_path: Path
    cert_path: Path
    key_path: Path

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def make_certificate(
    directory: Path, *, lifetime_days: int = 365, now: dt.datetime | None = None
) -> SandboxCertificate:
    """Create the CA and the server certificate in `directory`, or reuse them while still valid.

    `now` exists for tests that need a certificate which has already expired."""
    directory.mkdir(parents=True, exist_ok=True)
    files = SandboxCertificate(directory / CA_FILE, directory / CERT_FILE, directory / KEY_FILE)
    moment = now or dt.datetime.now(dt.UTC)
    if not _still_valid(files, moment):
        _create(files, moment, dt.timedelta(days=lifetime_days))
    return files


def _still_valid(files: SandboxCertificate, moment: dt.datetime) -> bool:
    try:
        ca = x509.load_pem_x509_certificate(files.ca_path.read_bytes())
        cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
        key = serialization.load_pem_private_key(files.key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca)
    except (OSError, ValueError, TypeError, InvalidSignature):
        return False
    same_key = key.public_key().public_bytes(*_PUBLIC_FORMAT) == cert.public_key().public_bytes(
        *_PUBLIC_FORMAT
    )
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if set(names.get_values_for_type(x509.DNSName)) != set(DNS_NAMES):
        return False  # made before a name was added
    horizon = moment + RENEW_BEFORE
    return same_key and all(
        c.not_valid_before_utc <= moment and horizon < c.not_valid_after_utc for c in (ca, cert)
    )


def _create(files: SandboxCertificate, moment: dt.datetime, lifetime: dt.timedelta) -> None:
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Dataverse sandbox local CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), moment, lifetime)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(cert_sign=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    alt_names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), *map(x509.DNSName, DNS_NAMES)]
    aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())
    server = (
        _builder(server_name, ca_name, server_key.public_key(), moment, lifetime)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(aki, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Key first: a reader that sees the new certificate must never pair it with the old key.
    _write_atomically(files.key_path, key_pem, mode=0o600)
    _write_atomically(files.cert_path, server.public_bytes(serialization.Encoding.PEM))
    _write_atomically(files.ca_path, ca.public_bytes(serialization.Encoding.PEM))


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    moment: dt.datetime,
    lifetime: dt.timedelta,
) -> x509.CertificateBuilder:
    # Python 3.13 verifies with VERIFY_X509_STRICT, which wants key identifiers on both certificates.
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(moment - dt.timedelta(minutes=5))
        .not_valid_after(moment + lifetime)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _write_atomically(path: Path, data: bytes, mode: int = 0o644) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
