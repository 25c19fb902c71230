"""The simulator's certificate authority and server certificates.

The google-genai SDK always dials ``wss://``, so the simulator must speak TLS. Clients trust
the simulator's CA explicitly (``SSL_CERT_FILE`` / ``cafile=``; verification is never turned
off). ``voicecli sim`` keeps one CA in its certificate folder (``ca.pem``, with ``ca.key``
readable by the owner only) and reuses it, so an exported ``SSL_CERT_FILE`` stays valid:
it is created when missing and replaced only when it is unusable or close to expiry and no
other simulator is running with it (each running simulator holds a shared lock on
``ca.lock``). If it must be replaced while another simulator runs, the new simulator gets a
CA of its own in a private subfolder instead. Each simulator makes its own server
certificate, signed by the CA, and keeps it out of the shared folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 365
CA_RENEW_DAYS = 30  # a CA with less left is replaced (when no simulator uses it)
SERVER_DAYS = 7
PEM = serialization.Encoding.PEM


@dataclass
class Authority:
    """A CA ready to sign server certificates; ``close()`` releases the shared lock."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    ca_path: Path  # what clients trust (SSL_CERT_FILE / cafile=)
    lock_fd: int | None = None
    private_dir: Path | None = None  # a CA of this simulator's own, removed at close

    def close(self) -> None:
        if self.lock_fd is not None:
            os.close(self.lock_fd)  # releases the shared lock
            self.lock_fd = None
        if self.private_dir is not None:
            for f in self.private_dir.iterdir():
                f.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.private_dir.rmdir()
            self.private_dir = None


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "voicecli simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _new_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("voicecli simulator CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    return ca_cert, ca_key


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write next to ``path`` and rename over it, so a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _save_ca(cert_dir: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> Path:
    key_pem = key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(cert_dir / "ca.key", key_pem, 0o600)
    _write_private(cert_dir / "ca.pem", cert.public_bytes(PEM), 0o644)
    return cert_dir / "ca.pem"


def _load_ca(cert_dir: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None:
    """The stored CA, if both files are there, match, and it has time left."""
    try:
        cert = x509.load_pem_x509_certificate((cert_dir / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((cert_dir / "ca.key").read_bytes(), None)
    except (OSError, ValueError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    left = cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    return (cert, key) if left > dt.timedelta(days=CA_RENEW_DAYS) else None


def shared_authority(cert_dir: Path) -> Authority:
    """The CA in ``cert_dir``: reused if usable, made if missing, never replaced while another
    simulator holds it (then this one gets its own, in a private subfolder)."""
    cert_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(cert_dir / "ca.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True  # no simulator is using the stored CA: it may be (re)made
        except BlockingIOError:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits while another one is writing it
            alone = False
        stored = _load_ca(cert_dir)
        if stored is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return Authority(*stored, ca_path=cert_dir / "ca.pem", lock_fd=fd)
        if alone:
            cert, key = _new_ca()
            path = _save_ca(cert_dir, cert, key)
            fcntl.flock(fd, fcntl.LOCK_SH)
            return Authority(cert, key, ca_path=path, lock_fd=fd)
    except BaseException:
        os.close(fd)
        raise
    os.close(fd)  # another simulator runs with a CA we cannot use: leave it alone
    own = Path(tempfile.mkdtemp(dir=cert_dir, prefix=f"ca-{os.getpid()}-"))
    cert, key = _new_ca()
    return Authority(cert, key, ca_path=_save_ca(own, cert, key), private_dir=own)


def private_authority(cert_dir: Path) -> Authority:
    """A fresh CA written to ``cert_dir`` (a folder of this simulator's own)."""
    cert, key = _new_ca()
    return Authority(cert, key, ca_path=_save_ca(cert_dir, cert, key))


def _server_cert(ca: Authority) -> tuple[bytes, bytes]:
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    end = min(now + dt.timedelta(days=SERVER_DAYS), ca.cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(san, critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), False
        )
        .sign(ca.key, hashes.SHA256())
    )
    chain = cert.public_bytes(PEM) + ca.cert.public_bytes(PEM)
    key_pem = key.private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, key_pem


def server_context(ca: Authority) -> ssl.SSLContext:
    """A TLS server context with a new certificate of this simulator's own (its files live
    only in a private temporary folder while they are loaded)."""
    chain, key_pem = _server_cert(ca)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="voicecli-sim-") as tmp:
        cert_path, key_path = Path(tmp) / "server.pem", Path(tmp) / "server.key"
        _write_private(cert_path, chain, 0o600)
        _write_private(key_path, key_pem, 0o600)
        ctx.load_cert_chain(cert_path, key_path)
    return ctx


def client_context(ca_path: Path | str) -> ssl.SSLContext:
    """An SSL context that trusts only the simulator's CA (verification stays on)."""
    return ssl.create_default_context(cafile=str(ca_path))
