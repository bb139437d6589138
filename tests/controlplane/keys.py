"""The service-account signing key, made with the standard library alone.

kube-apiserver signs service-account tokens with an RSA or ECDSA key, and
kube-controller-manager takes the same key. An ECDSA P-256 key needs no ``cryptography``
package and no ``openssl`` program: it is a random scalar ``d`` and the point ``d*G``, and its
PEM form (SEC 1, RFC 5915) is a short DER sequence. Making one takes milliseconds, where a
pure-Python RSA key would take up to a second of prime searching.
"""

from __future__ import annotations

import base64
import secrets

__all__ = ["CURVE_ORDER", "ec_private_key_pem", "on_curve", "public_point", "scalar_mult"]

# NIST P-256 (secp256r1), from SEC 2 section 2.4.2.
_P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
_A = _P - 3
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_G = (
    0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
    0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
)
CURVE_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_OID_P256 = bytes.fromhex("06082a8648ce3d030107")  # 1.2.840.10045.3.1.7

Point = tuple[int, int] | None  # None is the point at infinity


def _add(p: Point, q: Point) -> Point:
    if p is None:
        return q
    if q is None:
        return p
    (x1, y1), (x2, y2) = p, q
    if x1 == x2 and (y1 + y2) % _P == 0:
        return None
    if p == q:
        slope = (3 * x1 * x1 + _A) * pow(2 * y1, -1, _P) % _P
    else:
        slope = (y2 - y1) * pow(x2 - x1, -1, _P) % _P
    x3 = (slope * slope - x1 - x2) % _P
    return x3, (slope * (x1 - x3) - y1) % _P


def scalar_mult(k: int, point: Point = _G) -> Point:
    """Return ``k * point`` on P-256 (double-and-add; fine for a test key, not constant-time)."""
    result: Point = None
    addend = point
    while k:
        if k & 1:
            result = _add(result, addend)
        addend = _add(addend, addend)
        k >>= 1
    return result


def on_curve(point: Point) -> bool:
    """Return whether `point` satisfies ``y^2 = x^3 - 3x + b`` over P-256's field."""
    if point is None:
        return True
    x, y = point
    return (y * y - (x * x * x + _A * x + _B)) % _P == 0


def public_point(d: int) -> tuple[int, int]:
    """Return the public key ``d * G`` of the private scalar `d`."""
    point = scalar_mult(d)
    if point is None:
        msg = "the private scalar must not be a multiple of the group order"
        raise ValueError(msg)
    return point


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    length = bytes([n]) if n < 0x80 else bytes([0x81, n])
    return bytes([tag]) + length + body


def ec_private_key_pem(d: int | None = None) -> bytes:
    """Return an ECDSA P-256 private key as SEC 1 PEM (``BEGIN EC PRIVATE KEY``).

    Args:
        d: the private scalar (1 <= d < order); random by default.
    """
    if d is None:
        d = secrets.randbelow(CURVE_ORDER - 1) + 1
    x, y = public_point(d)
    public = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    body = (
        _der(0x02, b"\x01")  # version 1
        + _der(0x04, d.to_bytes(32, "big"))  # privateKey
        + _der(0xA0, _OID_P256)  # [0] parameters: namedCurve
        + _der(0xA1, _der(0x03, b"\x00" + public))  # [1] publicKey
    )
    b64 = base64.b64encode(_der(0x30, body)).decode()
    lines = "\n".join(b64[i : i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN EC PRIVATE KEY-----\n{lines}\n-----END EC PRIVATE KEY-----\n".encode()
