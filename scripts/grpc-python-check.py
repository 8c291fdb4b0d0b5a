#!/usr/bin/env python3
"""Drives jacod's gRPC API from Python (grpcio), as a client in another language would.

Usage: grpc-python-check.py <host:port> <ca.crt> <operator token> <stubs dir>

The stubs dir holds Python modules generated from Protos/ by grpc_tools.protoc. Prints one
line per check; exits 1 on the first failure, naming it.
"""
import sys

import grpc
from google.protobuf import descriptor_pb2
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_status import rpc_status

address, ca_path, token, stubs = sys.argv[1:5]
sys.path.insert(0, stubs)
from jaco.v1 import audit_pb2, audit_pb2_grpc, cluster_pb2, cluster_pb2_grpc, deploy_pb2, deploy_pb2_grpc, errors_pb2, tokens_pb2, tokens_pb2_grpc  # noqa: E402

with open(ca_path, "rb") as f:
    credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
channel = grpc.secure_channel(address, credentials)
auth = [("authorization", "Bearer " + token)]


def check(name, condition, detail=""):
    print(("ok   " if condition else "FAIL ") + name + (": " + str(detail) if detail and not condition else ""))
    if not condition:
        sys.exit(1)


def reason(call_error):
    """The google.rpc.ErrorInfo reason of a failed call."""
    status = rpc_status.from_call(call_error)
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return (info.reason, info.domain)
    return None


seen_reasons = set()


def fails_with(name, expected, call):
    try:
        call()
    except grpc.RpcError as error:
        got = reason(error)
        if got:
            seen_reasons.add(got[0])
        check(name, got == (expected, "jaco"), got)
        return
    check(name, False, "the call succeeded")


cluster = cluster_pb2_grpc.ClusterServiceStub(channel)
tokens = tokens_pb2_grpc.TokenServiceStub(channel)
audit = audit_pb2_grpc.AuditServiceStub(channel)
deploy = deploy_pb2_grpc.DeployServiceStub(channel)
health = health_pb2_grpc.HealthStub(channel)
Outcome = tokens_pb2.LeakedSecretOutcome

check("Health.Check", health.Check(health_pb2.HealthCheckRequest(service="jaco.v1.TokenService")).status == health_pb2.HealthCheckResponse.SERVING)
status = cluster.GetClusterStatus(cluster_pb2.GetClusterStatusRequest())
check("ClusterService.GetClusterStatus", status.initialized and status.ready, status)
fails_with("ClusterService.InitCluster twice", "already_initialized", lambda: cluster.InitCluster(cluster_pb2.InitClusterRequest()))
fails_with("ClusterService.IssueClientCertificate with no request", "validation_failed",
           lambda: cluster.IssueClientCertificate(cluster_pb2.IssueClientCertificateRequest(name="py", certificate_request_pem="x"), metadata=auth))

before = Timestamp()
before.GetCurrentTime()
issued = tokens.IssueToken(tokens_pb2.IssueTokenRequest(identity="py-client", ttl=Duration(seconds=3600)), metadata=auth)
expires = issued.token.expire_time.ToDatetime() - issued.token.issue_time.ToDatetime()
check("TokenService.IssueToken", issued.secret.startswith("jaco_") and issued.token.HasField("expire_time")
      and not issued.token.HasField("revoke_time") and expires.total_seconds() == 3600, issued.token)
fails_with("TokenService.IssueToken duplicate", "duplicate_identity", lambda: tokens.IssueToken(tokens_pb2.IssueTokenRequest(identity="py-client"), metadata=auth))
fails_with("TokenService.IssueToken with a zero ttl", "validation_failed",
           lambda: tokens.IssueToken(tokens_pb2.IssueTokenRequest(identity="py-zero", ttl=Duration()), metadata=auth))
fails_with("TokenService.ListTokens without a token", "token_invalid", lambda: tokens.ListTokens(tokens_pb2.ListTokensRequest()))
fails_with("TokenService.ListTokens with a negative page_size", "validation_failed",
           lambda: tokens.ListTokens(tokens_pb2.ListTokensRequest(page_size=-1), metadata=auth))
got = tokens.GetToken(tokens_pb2.GetTokenRequest(identity="py-client"), metadata=auth)
check("TokenService.GetToken", got.token.accessor_id == issued.token.accessor_id)
fails_with("TokenService.GetToken unknown", "not_found", lambda: tokens.GetToken(tokens_pb2.GetTokenRequest(identity="nobody"), metadata=auth))
page = tokens.ListTokens(tokens_pb2.ListTokensRequest(page_size=2), metadata=auth)
rest = tokens.ListTokens(tokens_pb2.ListTokensRequest(page_token=page.next_page_token), metadata=auth)
listed = [t.accessor_id for t in list(page.tokens) + list(rest.tokens)]
check("TokenService.ListTokens pages", len(page.tokens) == 2 and page.next_page_token != "" and rest.next_page_token == ""
      and len(listed) == len(set(listed)) and issued.token.accessor_id in listed, listed)
rotated = tokens.RotateToken(tokens_pb2.RotateTokenRequest(identity="py-client", grace=Duration(seconds=60)), metadata=auth)
check("TokenService.RotateToken", rotated.secret != issued.secret and rotated.token.HasField("grace_end_time"))
fails_with("TokenService.RotateToken in a grace window", "failed_precondition",
           lambda: tokens.RotateToken(tokens_pb2.RotateTokenRequest(identity="py-client"), metadata=auth))
revoked = tokens.RevokeToken(tokens_pb2.RevokeTokenRequest(identity="py-client"), metadata=auth)
check("TokenService.RevokeToken", revoked.token.HasField("revoke_time") and revoked.token.revoke_time.ToDatetime() >= before.ToDatetime())
fails_with("a revoked token", "token_revoked", lambda: tokens.ListTokens(tokens_pb2.ListTokensRequest(), metadata=[("authorization", "Bearer " + rotated.secret)]))
leak = tokens.IssueToken(tokens_pb2.IssueTokenRequest(identity="py-leaked", allows_privileged=True), metadata=auth)
check("allows_privileged round-trips", leak.token.allows_privileged)
outcomes = tokens.RevokeLeakedSecrets(tokens_pb2.RevokeLeakedSecretsRequest(secrets=[leak.secret, "nonsense"]))
check("TokenService.RevokeLeakedSecrets (no token)",
      [o.result for o in outcomes.outcomes] == [Outcome.RESULT_REVOKED, Outcome.RESULT_MALFORMED], outcomes)
fails_with("TokenService.Login with an unknown auth method (no token)", "not_found",
           lambda: tokens.Login(tokens_pb2.LoginRequest(auth_method="py-none", bearer_token="e.e.e")))
fails_with("TokenService.Logout with a token not made by login", "permission_denied",
           lambda: tokens.Logout(tokens_pb2.LogoutRequest(), metadata=auth))

review = deploy.ValidateManifest(deploy_pb2.ValidateManifestRequest(manifest=b"services:\n  web:\n    image: nginx\n"))
check("DeployService.ValidateManifest (no token)", list(review.services) == ["web"])
fails_with("DeployService.ValidateManifest bad schema", "validation_failed",
           lambda: deploy.ValidateManifest(deploy_pb2.ValidateManifestRequest(manifest=b"services: [")))
applied = deploy.ApplyManifest(deploy_pb2.ApplyManifestRequest(deployment="py", manifest=b"services:\n  web:\n    image: nginx\n"), metadata=auth)
check("DeployService.ApplyManifest", applied.revision == 1)

first = audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest(page_size=3), metadata=auth)
more = audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest(page_token=first.next_page_token), metadata=auth)
sequences = [e.sequence for e in list(first.events) + list(more.events)]
check("AuditService.ListAuditEvents pages", len(first.events) == 3 and first.next_page_token != "" and more.next_page_token == ""
      and sequences == list(range(1, len(sequences) + 1)), sequences)
issues = audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest(types=["token_issue"], since=before), metadata=auth)
check("AuditService.ListAuditEvents filters", [e.payload["identity"] for e in issues.events] == ["py-client", "py-leaked"], issues)
fails_with("AuditService.ListAuditEvents unknown type", "validation_failed",
           lambda: audit.ListAuditEvents(audit_pb2.ListAuditEventsRequest(types=["nope"]), metadata=auth))
watch = audit.WatchAuditEvents(audit_pb2.WatchAuditEventsRequest(types=["apply"]), metadata=auth)
check("AuditService.WatchAuditEvents", next(watch).event.payload.get("deployment") == "py")
watch.cancel()
check("AuditService.VerifyAuditChain", audit.VerifyAuditChain(audit_pb2.VerifyAuditChainRequest(), metadata=auth).intact)

snapshot = b"".join(message.chunk for message in cluster.SaveSnapshot(cluster_pb2.SaveSnapshotRequest(), metadata=auth))
check("ClusterService.SaveSnapshot", snapshot.startswith(b"JACOSNAP"))
restored = cluster.RestoreSnapshot(iter([cluster_pb2.RestoreSnapshotRequest(chunk=snapshot)]), metadata=auth)
check("ClusterService.RestoreSnapshot", restored.snapshot.records > 0 and restored.snapshot.HasField("create_time"))
fails_with("ClusterService.RestoreSnapshot damaged", "validation_failed",
           lambda: cluster.RestoreSnapshot(iter([cluster_pb2.RestoreSnapshotRequest(chunk=snapshot[:-1] + b"x")]), metadata=auth))

# Every reason a call can give is a value of jaco.v1.ErrorCode.
codes = {name[len("ERROR_CODE_"):].lower() for name in errors_pb2.ErrorCode.keys() if name != "ERROR_CODE_UNSPECIFIED"}
check("ErrorCode names the reasons seen", seen_reasons <= codes, seen_reasons - codes)

# grpc.reflection.v1 has the same messages as v1alpha, whose Python classes grpcio-reflection ships.
reflect = channel.stream_stream(
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
    response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
answers = list(reflect(iter([
    reflection_pb2.ServerReflectionRequest(list_services=""),
    reflection_pb2.ServerReflectionRequest(file_containing_symbol="jaco.v1.TokenService.GetToken"),
])))
services = {s.name for s in answers[0].list_services_response.service}
check("reflection lists the services", {"jaco.v1.TokenService", "jaco.v1.ClusterService", "jaco.v1.AuditService", "jaco.v1.DeployService", "grpc.health.v1.Health"} <= services, services)
files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in answers[1].file_descriptor_response.file_descriptor_proto]
check("reflection finds a method, with the files it imports", {"jaco/v1/tokens.proto", "google/protobuf/timestamp.proto"} <= {f.name for f in files}, [f.name for f in files])
print("all checks passed")
