#!/usr/bin/env python3
"""A webhook receiver for hookspool's `hmac-sha256`, `github` and `stripe` schemes, verified with
the Python standard library alone (hmac, hashlib, hmac.compare_digest), as each scheme documents:

  hmac-sha256  X-Webhook-Signature: <hex>          HMAC-SHA256(key = secret's UTF-8 bytes, body)
  github       X-Hub-Signature-256: sha256=<hex>   HMAC-SHA256(key = secret's UTF-8 bytes, body)
  stripe       Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]
                                                   HMAC-SHA256(key = secret's UTF-8 bytes, "<t>." + body),
                                                   and t within --tolerance seconds of now, both ways

For `stripe`, when the `stripe` package is installed, every delivery must also pass Stripe's own
verifier (stripe.WebhookSignature.verify_header); --stripe-package require makes that mandatory.

    python3 stdlib_receiver.py --scheme github --port 8002 --secret 'It'"'"'s a Secret' --out events.ndjson

Answers 401 when no secret verifies, 200 once the event is on disk in --out; an id seen before
gets 200 and is not stored again. Prints `listening on HOST:PORT` first, counts on SIGTERM.
The hmac-sha256 and github schemes sign the body only (X-Webhook-Timestamp is not signed), so
they cannot reject a replayed delivery by its age: deduplicate on the id, as this receiver does.
"""
import hashlib
import hmac
import sys
import time

from receiver_base import Rejected, argument_parser, read_secret, serve


def hex_hmac(key, message):
    return hmac.new(key, message, hashlib.sha256).hexdigest().encode("ascii")


def header(headers, name):
    value = headers.get(name)
    if value is None:
        raise Rejected(f"missing header {name}")
    return value


def matches(expected, given):
    # compare_digest takes time independent of where the strings differ.
    return hmac.compare_digest(expected, given.strip().encode("latin-1"))


def verify_hmac_sha256(keys):
    def verify(body, headers):
        given = header(headers, "X-Webhook-Signature")
        if any(matches(hex_hmac(key, body), given) for key in keys):
            return ["stdlib"]
        raise Rejected("X-Webhook-Signature matches no secret")
    return verify


def verify_github(keys):
    def verify(body, headers):
        given = header(headers, "X-Hub-Signature-256")
        if not given.startswith("sha256="):
            raise Rejected("X-Hub-Signature-256 does not start with sha256=")
        if any(matches(hex_hmac(key, body), given[len("sha256="):]) for key in keys):
            return ["stdlib"]
        raise Rejected("X-Hub-Signature-256 matches no secret")
    return verify


def parse_stripe_header(value):
    """`t=<unix>,v1=<hex>,v1=<hex>…`; items of other schemes (v0) are ignored, as Stripe does."""
    timestamp, signatures = None, []
    for item in value.split(","):
        key, equals, text = item.strip().partition("=")
        if not equals:
            raise Rejected(f"malformed Stripe-Signature item {item!r}")
        if key == "t":
            if timestamp is not None or not (text.isascii() and text.isdigit()):
                raise Rejected("Stripe-Signature needs exactly one t=<unix seconds>")
            timestamp = int(text)
        elif key == "v1":
            signatures.append(text)
    if timestamp is None:
        raise Rejected("Stripe-Signature has no t=")
    if not signatures:
        raise Rejected("Stripe-Signature has no v1= signature")
    return timestamp, signatures


def verify_stripe(keys, secrets, tolerance, stripe_package):
    def verify(body, headers):
        value = header(headers, "Stripe-Signature")
        timestamp, signatures = parse_stripe_header(value)
        age = time.time() - timestamp
        if age > tolerance:
            raise Rejected(f"timestamp {timestamp} is {int(age)}s old, more than the {tolerance}s tolerance")
        if -age > tolerance:
            raise Rejected(f"timestamp {timestamp} is {int(-age)}s in the future, more than the {tolerance}s tolerance")
        signed = str(timestamp).encode("ascii") + b"." + body
        if not any(matches(hex_hmac(key, signed), given) for key in keys for given in signatures):
            raise Rejected("no v1= signature matches any secret")
        verified_by = ["stdlib"]
        if stripe_package is not None:
            # Stripe's own verifier must agree, for at least one of the secrets.
            reasons = []
            for secret in secrets:
                try:
                    stripe_package.WebhookSignature.verify_header(body, value, secret, tolerance)
                    verified_by.append("stripe_package")
                    break
                except stripe_package.SignatureVerificationError as error:
                    reasons.append(str(error))
            else:
                raise Rejected("the stripe package rejected what the standard library accepted: " + "; ".join(dict.fromkeys(reasons)))
        return verified_by
    return verify


def load_stripe(mode):
    if mode == "off":
        return None
    try:
        import stripe
    except ImportError:
        if mode == "require":
            sys.exit("--stripe-package require: the stripe package is not installed (python3 -m pip install -r requirements.txt)")
        print("stripe package not installed; verifying with the standard library only", file=sys.stderr)
        return None
    print(f"stripe package {stripe.VERSION}: every delivery is also checked by stripe.WebhookSignature.verify_header", file=sys.stderr)
    return stripe


def main():
    parser = argument_parser(__doc__)
    parser.add_argument("--scheme", required=True, choices=["hmac-sha256", "github", "stripe"])
    parser.add_argument("--tolerance", type=int, default=300, help="stripe: seconds a timestamp may be off, either way (default 300)")
    parser.add_argument(
        "--stripe-package", choices=["auto", "require", "off"], default="auto",
        help="stripe: also verify with the stripe package: when installed (auto, the default), always (require), never (off)",
    )
    args = parser.parse_args()
    secrets = [read_secret(s) for s in args.secret]
    keys = [secret.encode("utf-8") for secret in secrets]
    if args.scheme == "hmac-sha256":
        verify = verify_hmac_sha256(keys)
    elif args.scheme == "github":
        verify = verify_github(keys)
    else:
        verify = verify_stripe(keys, secrets, args.tolerance, load_stripe(args.stripe_package))
    serve(args, verify)


if __name__ == "__main__":
    main()
