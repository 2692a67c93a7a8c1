"""The server side of NTLM over HTTP ([MS-NLMP]), enough for a real NTLMv2 client.

IIS answers `Authorization: NTLM <NEGOTIATE>` with `401 WWW-Authenticate: NTLM <CHALLENGE>`
and accepts the AUTHENTICATE message on the same connection; the connection then stays
authenticated. This module builds the CHALLENGE (server challenge, target info with a
timestamp) and verifies the client's NTLMv2 proof against the account's password:

    NTOWFv2  = HMAC_MD5(MD4(UTF-16LE(password)), UTF-16LE(UPPER(user) + domain))
    proof    = HMAC_MD5(NTOWFv2, server_challenge + client_blob)

Not verified (documented in FIDELITY.md): the MIC, channel bindings, session keys, signing
and sealing, and LM / NTLMv1 responses (refused, as a hardened Exchange server does).
https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-nlmp/
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
import time
from dataclasses import dataclass

SIGNATURE = b"NTLMSSP\x00"
NEGOTIATE, CHALLENGE, AUTHENTICATE = 1, 2, 3

_UNICODE = 0x00000001
_REQUEST_TARGET = 0x00000004
_SIGN = 0x00000010
_SEAL = 0x00000020
_NTLM = 0x00000200
_ALWAYS_SIGN = 0x00008000
_TARGET_TYPE_DOMAIN = 0x00010000
_EXTENDED_SESSION_SECURITY = 0x00080000
_TARGET_INFO = 0x00800000
_VERSION = 0x02000000
_128 = 0x20000000
_KEY_EXCH = 0x40000000
_56 = 0x80000000
_ECHOED = (
    _UNICODE | _SIGN | _SEAL | _NTLM | _ALWAYS_SIGN | _EXTENDED_SESSION_SECURITY | _VERSION
) | (_128 | _KEY_EXCH | _56)


class NtlmError(ValueError):
    """A message that is not NTLM, of the wrong type, or malformed."""


@dataclass(frozen=True)
class Authenticate:
    user: str
    domain: str
    workstation: str
    nt_response: bytes


def message_type(token: bytes) -> int:
    if len(token) < 12 or token[:8] != SIGNATURE:
        raise NtlmError("not an NTLMSSP message")
    return int(struct.unpack_from("<I", token, 8)[0])


def challenge_message(negotiate: bytes, server_challenge: bytes, domain: str, host: str) -> bytes:
    """The CHALLENGE answering a NEGOTIATE: the client's flags we support, echoed back."""
    if message_type(negotiate) != NEGOTIATE or len(negotiate) < 16:
        raise NtlmError("expected an NTLM NEGOTIATE message")
    client_flags = int(struct.unpack_from("<I", negotiate, 12)[0])
    if not client_flags & _UNICODE:
        raise NtlmError("only Unicode NTLM clients are supported")
    flags = (client_flags & _ECHOED) | _UNICODE | _NTLM | _TARGET_INFO | _TARGET_TYPE_DOMAIN
    flags |= _REQUEST_TARGET
    target_name = domain.upper().encode("utf-16-le")
    filetime = int((time.time() + 11644473600) * 10_000_000)
    info = b"".join(
        [
            _av(2, domain.upper().encode("utf-16-le")),  # MsvAvNbDomainName
            _av(1, host.upper().encode("utf-16-le")),  # MsvAvNbComputerName
            _av(4, domain.lower().encode("utf-16-le")),  # MsvAvDnsDomainName
            _av(3, host.lower().encode("utf-16-le")),  # MsvAvDnsComputerName
            _av(7, struct.pack("<Q", filetime)),  # MsvAvTimestamp
            _av(0, b""),  # MsvAvEOL
        ]
    )
    header_len = 56
    target_off = header_len
    info_off = target_off + len(target_name)
    header = b"".join(
        [
            SIGNATURE,
            struct.pack("<I", CHALLENGE),
            struct.pack("<HHI", len(target_name), len(target_name), target_off),
            struct.pack("<I", flags),
            server_challenge,
            b"\x00" * 8,
            struct.pack("<HHI", len(info), len(info), info_off),
            bytes([10, 0]) + struct.pack("<H", 20348) + b"\x00\x00\x00\x0f",  # Windows 10.0
        ]
    )
    return header + target_name + info


def parse_authenticate(token: bytes) -> Authenticate:
    if message_type(token) != AUTHENTICATE or len(token) < 64:
        raise NtlmError("expected an NTLM AUTHENTICATE message")

    def field(offset: int) -> bytes:
        length, _max, start = struct.unpack_from("<HHI", token, offset)
        if start + length > len(token):
            raise NtlmError("field outside the message")
        return token[start : start + length]

    flags = int(struct.unpack_from("<I", token, 60)[0])
    encoding = "utf-16-le" if flags & _UNICODE else "latin-1"
    try:
        return Authenticate(
            user=field(36).decode(encoding),
            domain=field(28).decode(encoding),
            workstation=field(44).decode(encoding),
            nt_response=field(20),
        )
    except UnicodeDecodeError as exc:
        raise NtlmError("undecodable name") from exc


def verify_ntlmv2(auth: Authenticate, password: str, server_challenge: bytes) -> bool:
    """True when the NTLMv2 proof was made from this password and challenge."""
    if len(auth.nt_response) <= 24:  # NTLMv1 (24 bytes) or anonymous: refused
        return False
    nt_hash = md4(password.encode("utf-16-le"))
    key = hmac.new(nt_hash, (auth.user.upper() + auth.domain).encode("utf-16-le"), "md5").digest()
    proof, blob = auth.nt_response[:16], auth.nt_response[16:]
    expected = hmac.new(key, server_challenge + blob, "md5").digest()
    return hmac.compare_digest(proof, expected)


def new_server_challenge() -> bytes:
    return os.urandom(8)


def _av(av_id: int, value: bytes) -> bytes:
    return struct.pack("<HH", av_id, len(value)) + value


def md4(data: bytes) -> bytes:
    """RFC 1320 MD4: NTLM's password hash. OpenSSL 3 no longer offers it to hashlib."""
    try:
        return hashlib.new("md4", data).digest()  # noqa: S324 - NTLM is defined on MD4
    except ValueError:
        pass
    mask = 0xFFFFFFFF

    def rotl(x: int, n: int) -> int:
        return ((x << n) | (x >> (32 - n))) & mask

    length = len(data) * 8
    data += b"\x80" + b"\x00" * ((55 - len(data)) % 64) + struct.pack("<Q", length)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for chunk in range(0, len(data), 64):
        x = struct.unpack("<16I", data[chunk : chunk + 64])
        aa, bb, cc, dd = a, b, c, d
        for i in range(16):
            k, s = i, (3, 7, 11, 19)[i % 4]
            f = (b & c) | (~b & d)
            a, b, c, d = d, rotl((a + f + x[k]) & mask, s), b, c
        for i in range(16):
            k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
            g = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, rotl((a + g + x[k] + 0x5A827999) & mask, s), b, c
        for i in range(16):
            k = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i]
            s = (3, 9, 11, 15)[i % 4]
            h = b ^ c ^ d
            a, b, c, d = d, rotl((a + h + x[k] + 0x6ED9EBA1) & mask, s), b, c
        a, b, c, d = (a + aa) & mask, (b + bb) & mask, (c + cc) & mask, (d + dd) & mask
    return struct.pack("<4I", a, b, c, d)
