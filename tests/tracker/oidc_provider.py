"""A small OpenID Connect provider whose ID tokens say what a test tells them to.

``oidc-provider-mock`` always issues correct tokens; the refusals of a wrong audience, a
wrong issuer or an expired token need a provider that issues bad ones. This one is run as a
process of its own (``python oidc_provider.py PORT``) and serves discovery, its JWKS, an
authorize endpoint that redirects straight back with a code, and a token endpoint that
checks the code and its PKCE verifier and returns an ID token signed with a fresh RSA key.
``PUT /test/claims`` (JSON) sets claims to change in the next ID tokens: any key replaces
the claim (``null`` removes it). ``PUT /test/key`` with ``{"foreign": true}`` signs with
another key than the one published, for a bad signature; ``PUT /test/discovery`` changes
fields of the discovery document.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import time
from typing import Any
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import run_simple
from werkzeug.wrappers import Request, Response

KEY = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
FOREIGN = RSAKey.generate_key(2048, parameters={"kid": "test-key", "alg": "RS256"})
CODES: dict[str, dict[str, str]] = {}
SETTINGS: dict[str, Any] = {"claims": {}, "foreign": False, "discovery": {}}


def _json(data: object, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _discovery(base: str) -> Response:
    return _json({
        "issuer": base, "authorization_endpoint": f"{base}/authorize",
        "token_endpoint": f"{base}/token", "jwks_uri": f"{base}/jwks",
        "response_types_supported": ["code"], "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"], **SETTINGS["discovery"],
    })


def _authorize(request: Request) -> Response:
    args = request.args
    code = secrets.token_urlsafe(16)
    CODES[code] = {"nonce": args.get("nonce", ""), "challenge": args.get("code_challenge", ""),
                   "redirect_uri": args.get("redirect_uri", ""),
                   "client_id": args.get("client_id", "")}
    target = args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]})
    return Response(status=302, headers={"Location": target})


def _token(request: Request, base: str) -> Response:
    asked = CODES.pop(request.form.get("code", ""), None)
    if asked is None or request.form.get("redirect_uri") != asked["redirect_uri"]:
        return _json({"error": "invalid_grant"}, 400)
    verifier = request.form.get("code_verifier", "").encode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
    if challenge.decode() != asked["challenge"]:
        return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
    now = int(time.time())
    claims: dict[str, Any] = {"iss": base, "aud": asked["client_id"], "sub": "someone",
                              "iat": now, "exp": now + 300, "nonce": asked["nonce"],
                              "email": "nobody@example.org", "email_verified": True}
    for name, value in SETTINGS["claims"].items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    key = FOREIGN if SETTINGS["foreign"] else KEY
    token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, key)
    return _json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                  "expires_in": 300, "id_token": token})


def app(environ: dict[str, Any], start_response: Any) -> Any:
    request = Request(environ)
    base = request.host_url.rstrip("/")
    if request.path == "/.well-known/openid-configuration":
        response = _discovery(base)
    elif request.path == "/jwks":
        response = _json(KeySet([KEY]).as_dict(private=False))
    elif request.path == "/authorize":
        response = _authorize(request)
    elif request.path == "/token" and request.method == "POST":
        response = _token(request, base)
    elif request.path == "/test/claims" and request.method == "PUT":
        SETTINGS["claims"] = request.get_json()
        response = Response(status=204)
    elif request.path == "/test/discovery" and request.method == "PUT":
        SETTINGS["discovery"] = request.get_json()
        response = Response(status=204)
    elif request.path == "/test/key" and request.method == "PUT":
        SETTINGS["foreign"] = bool(request.get_json().get("foreign"))
        response = Response(status=204)
    else:
        response = Response("not found", status=404)
    return response(environ, start_response)


if __name__ == "__main__":
    run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
