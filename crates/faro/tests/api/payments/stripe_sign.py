#!/usr/bin/env python3
"""Stripe-Signature headers made and checked by Stripe's own library, not by us: a third
party's view of faro-payments-domain's `providers::stripe::signature`.

    stripe_sign.py sign SECRET TIMESTAMP < body
        Prints the `Stripe-Signature` value Stripe would send for the body on stdin
        (`t=TIMESTAMP,v1=<hex>`), from `stripe.WebhookSignature.generate_signature_header`.

    stripe_sign.py verify SECRET HEADER [--tolerance SECONDS] < body
        Checks a header (one Faro produced) with `stripe.WebhookSignature.verify_header`,
        and, when the body is a JSON event, parses it with `stripe.Webhook.construct_event`.
        Exit 0 and prints `verified` (and the event's type) if Stripe accepts it; exit 1 and
        prints Stripe's reason on stderr if not. SECONDS is Stripe's tolerance: 300 by
        default, as in stripe-python; 0 skips the time check (for fixed test timestamps).
        Stripe only refuses timestamps older than that; Faro also refuses future ones.

The body is read as bytes and decoded as UTF-8, as stripe-python does with a bytes payload
(a body that is not UTF-8 cannot be checked by it). Exit 2 is a usage error, 3 a missing
package. Requires the pinned `stripe` from scripts/test-requirements.txt.
"""

import argparse
import json
import sys

try:
    from stripe import SignatureVerificationError, Webhook, WebhookSignature
except ImportError:
    sys.stderr.write(
        "stripe_sign.py needs the stripe package: "
        "python3 -m pip install -r scripts/test-requirements.txt\n"
    )
    sys.exit(3)


def read_body():
    raw = sys.stdin.buffer.read()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        sys.stderr.write("the body is not UTF-8: stripe-python cannot sign or check it\n")
        sys.exit(2)


def sign(args):
    payload = read_body()
    print(WebhookSignature.generate_signature_header(payload, args.secret, args.timestamp))
    return 0


def verify(args):
    payload = read_body()
    tolerance = args.tolerance or None
    try:
        WebhookSignature.verify_header(payload, args.header, args.secret, tolerance)
    except SignatureVerificationError as e:
        sys.stderr.write(f"refused: {e.user_message or e}\n")
        return 1
    kind = ""
    try:
        looks_like_event = isinstance(json.loads(payload), dict)
    except ValueError:
        looks_like_event = False
    if looks_like_event:
        event = Webhook.construct_event(
            payload, args.header, args.secret, tolerance=tolerance or 0, api_key="sk_test_x"
        )
        kind = f" {getattr(event, 'type', '')}".rstrip()
    print(f"verified{kind}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("sign", help="print a Stripe-Signature for the body on stdin")
    s.add_argument("secret")
    s.add_argument("timestamp", type=int)
    s.set_defaults(run=sign)
    v = sub.add_parser("verify", help="check a Stripe-Signature against the body on stdin")
    v.add_argument("secret")
    v.add_argument("header")
    v.add_argument("--tolerance", type=int, default=Webhook.DEFAULT_TOLERANCE)
    v.set_defaults(run=verify)
    args = parser.parse_args()
    sys.exit(args.run(args))


if __name__ == "__main__":
    main()
