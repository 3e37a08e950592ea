"""STS (query protocol): GetCallerIdentity, AssumeRole, AssumeRoleWithWebIdentity.

Design: roles, their trust lists, external ids, maximum session durations and
accepted web identity tokens come from org.json. Issued credentials are stored
in State and are the only keys that act in the role's account (data scoping
by the caller's account happens in the server). Error codes and texts are
the ones STS answers with (AccessDenied, ValidationError, InvalidIdentityToken,
MalformedPolicyDocument is not emulated: policies are accepted and ignored).
"""

import base64
import hashlib
import json
import re

from .errors import ApiError

_ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(?:.*/)?([\w+=,.@-]+)$")


def _role_id(arn):
    return "AROA" + hashlib.sha256(arn.encode()).hexdigest()[:17].upper()


class Service:
    name = "sts"

    def __init__(self, state):
        self.state = state

    def reload(self):
        pass

    def handle(self, ctx, operation, params):
        if operation == "GetCallerIdentity":
            c = ctx.cred
            return {"UserId": c.user_id, "Account": c.account, "Arn": c.arn}
        if operation == "AssumeRole":
            return self._assume(ctx, params, web=False)
        if operation == "AssumeRoleWithWebIdentity":
            return self._assume(ctx, params, web=True)
        raise ApiError(400, "InvalidAction", "Could not find operation %s for version 2011-06-15" % operation)

    def _assume(self, ctx, params, web):
        arn = params["RoleArn"]
        session = params["RoleSessionName"]
        action = "sts:AssumeRoleWithWebIdentity" if web else "sts:AssumeRole"
        m = _ROLE_ARN.match(arn)
        role = self.state.role(arn)
        if not web:
            caller = ctx.cred
            denied = ApiError(403, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s"
                              % (caller.arn, action, arn))
            if not m or role is None or role.get("web_identity") and not role.get("trusted"):
                raise denied
            trusted = set(role.get("trusted") or [])
            caller_role_arn = None
            if caller.is_role_session:
                parts = caller.arn.split(":")
                rname = parts[5].split("/")[1]
                caller_role_arn = "arn:%s:iam::%s:role/%s" % (parts[1], caller.account, rname)
            root = "arn:aws:iam::%s:root" % caller.account
            if not ({root, caller.arn, caller_role_arn} & trusted):
                raise denied
            ext = role.get("external_id")
            if ext is not None and params.get("ExternalId") != ext:
                raise denied
        else:
            token = params["WebIdentityToken"]
            if token not in (self.state.org.get("web_identity_tokens") or []):
                raise ApiError(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements")
            if not m or role is None or not role.get("web_identity"):
                raise ApiError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")
        duration = params.get("DurationSeconds", 3600)
        max_dur = int(role.get("max_session_duration") or 3600)
        if not web and ctx.cred.is_role_session and duration > 3600:
            raise ApiError(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
        if duration > max_dur:
            raise ApiError(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
        account, role_name = m.group(2), m.group(3)
        session_arn = "arn:%s:sts::%s:assumed-role/%s/%s" % (m.group(1), account, role_name, session)
        role_id = _role_id(arn)
        cred = self.state.issue(account, session_arn, "%s:%s" % (role_id, session), duration,
                                "web-identity" if web else "assume-role")
        out = {
            "Credentials": {"AccessKeyId": cred.access_key, "SecretAccessKey": cred.secret_key,
                            "SessionToken": cred.token, "Expiration": cred.expiration},
            "AssumedRoleUser": {"AssumedRoleId": "%s:%s" % (role_id, session), "Arn": session_arn},
            "PackedPolicySize": 6 if params.get("Policy") else None,
        }
        if web:
            sub, aud, iss = _jwt_claims(params["WebIdentityToken"])
            out["SubjectFromWebIdentityToken"] = sub
            out["Audience"] = aud
            out["Provider"] = iss
        if out["PackedPolicySize"] is None:
            del out["PackedPolicySize"]
        return out


def _jwt_claims(token):
    """sub / aud / iss of a JWT, or fixed values for an opaque token."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        aud = claims.get("aud")
        if isinstance(aud, list):
            aud = aud[0] if aud else None
        return str(claims.get("sub", "emulator")), str(aud or "sts.amazonaws.com"), str(claims.get("iss", "emulator.local"))
    except Exception:
        return "emulator-subject", "sts.amazonaws.com", "emulator.local"
