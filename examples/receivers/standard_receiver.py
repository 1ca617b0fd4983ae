#!/usr/bin/env python3
"""A webhook receiver for hookspool's `standard` scheme, verified by the official Standard Webhooks
library (`pip install standardwebhooks`), not by anything hookspool wrote.

    python3 standard_receiver.py --port 8001 --secret whsec_... --out events.ndjson

Answers 401 when no secret verifies the `webhook-signature` (or the timestamp is more than
5 minutes off, the library's own tolerance), 200 once the event is on disk in --out; an id seen
before gets 200 and is not stored again. Prints `listening on HOST:PORT` first, counts on SIGTERM.
"""
import sys

from receiver_base import Rejected, argument_parser, read_secret, serve

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError:
    sys.exit("standard_receiver.py needs the standardwebhooks package: python3 -m pip install -r requirements.txt")


def make_verifier(secrets):
    # One Webhook per secret: during a rotation the sender signs with every secret it holds
    # (space-separated v1,… signatures) and any one the receiver knows is enough.
    hooks = []
    for index, secret in enumerate(secrets):
        try:
            hooks.append(Webhook(secret))
        except Exception as error:  # bad base64, empty key
            sys.exit(f"--secret #{index + 1} is not a Standard Webhooks secret (whsec_ + base64): {error}")

    def verify(body, headers):
        plain = {name: value for name, value in headers.items()}
        reasons = []
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
