#!/usr/bin/env python3
"""A webhook receiver for hookspool's `standard` scheme, verified by the official Standard Webhooks
library (`pip install standardwebhooks`) for `v1` (whsec_ secrets), and by the `cryptography`
package's ed25519 for `v1a` (whpk_ public keys), not by anything hookspool wrote.

    python3 standard_receiver.py --port 8001 --secret whsec_... --out events.ndjson
    python3 standard_receiver.py --port 8001 --secret whpk_... --out events.ndjson

Answers 401 when no secret verifies the `webhook-signature` (or the timestamp is more than
5 minutes off, the library's own tolerance), 200 once the event is on disk in --out; an id seen
before gets 200 and is not stored again. Prints `listening on HOST:PORT` first, counts on SIGTERM.
"""
import base64
import sys
import time

from receiver_base import Rejected, argument_parser, read_secret, serve

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    sys.exit("standard_receiver.py needs the standardwebhooks package: python3 -m pip install -r requirements.txt")


TOLERANCE_SECONDS = 5 * 60  # as the standardwebhooks library's


def public_key(secret, index):
    try:
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    except ImportError:
        sys.exit("whpk_ keys need the cryptography package: python3 -m pip install -r requirements.txt")
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(secret[len("whpk_"):], validate=True))
    except Exception as error:
        sys.exit(f"--secret #{index + 1} is not an ed25519 public key (whpk_ + base64 of 32 bytes): {error}")


def verify_v1a(keys, body, headers):
    """A `v1a,<base64>` entry that is an ed25519 signature of `id.timestamp.body` under one of `keys`."""
    from cryptography.exceptions import InvalidSignature

    lower = {name.lower(): value for name, value in headers.items()}
    msg_id, stamp, signatures = (lower.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (msg_id and stamp and signatures):
        raise Rejected("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise Rejected("webhook-timestamp is not an integer")
    if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
        raise Rejected("webhook-timestamp is outside the tolerance")
    message = f"{msg_id}.{stamp}.".encode() + body
    for entry in signatures.split():
        version, _, encoded = entry.partition(",")
        if version != "v1a":
            continue
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:
            continue
        for key in keys:
            try:
                key.verify(signature, message)
                return True
            except InvalidSignature:
                pass
    raise Rejected("no v1a signature verifies with the whpk_ keys given")


def make_verifier(secrets):
    # One Webhook per whsec_ secret: during a rotation the sender signs with every secret it holds
    # (space-separated v1,… and v1a,… signatures) and any one the receiver knows is enough.
    hooks = []
    keys = []
    for index, secret in enumerate(secrets):
        if secret.startswith("whpk_"):
            keys.append(public_key(secret, index))
            continue
        try:
            hooks.append(Webhook(secret))
        except Exception as error:  # bad base64, empty key
            sys.exit(f"--secret #{index + 1} is not a Standard Webhooks secret (whsec_ + base64): {error}")

    def verify(body, headers):
        plain = {name: value for name, value in headers.items()}
        reasons = []
        if keys:
            try:
                verify_v1a(keys, body, plain)
                return ["cryptography"]
            except Rejected as error:
                reasons.append(str(error))
        for hook in hooks:
            try:
                hook.verify(body, plain, json_parse=False)
                return ["standardwebhooks"]
            except WebhookVerificationError as error:
                reasons.append(str(error))
            except ValueError as error:  # a signature that is not `v1,<base64>`, a body that is not UTF-8
                reasons.append(f"malformed: {error}")
        raise Rejected("; ".join(dict.fromkeys(reasons)))

    return verify


def main():
    parser = argument_parser(__doc__)
    args = parser.parse_args()
    serve(args, make_verifier([read_secret(s) for s in args.secret]))


if __name__ == "__main__":
    main()
