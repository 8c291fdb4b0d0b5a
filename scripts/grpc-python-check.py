#!/usr/bin/env python3
"""Drives jacod's gRPC API from Python (grpcio), as a client in another language would.

Usage: grpc-python-check.py <host:port> <ca.crt> <operator token> <stubs dir>

The stubs dir holds Python modules generated from Protos/ by grpc_tools.protoc. Prints one
line per check; exits 1 on the first failure, naming it.
"""
import sys

import grpc
from google.protobuf import descriptor_pb2
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2
from grpc_status import rpc_status

address, ca_path, token, stubs = sys.argv[1:5]
sys.path.insert(0, stubs)
from jaco.v1 import audit_pb2, audit_pb2_grpc, cluster_pb2, cluster_pb2_grpc, deploy_pb2, deploy_pb2_grpc, tokens_pb2, tokens_pb2_grpc  # noqa: E402

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


def fails_with(name, expected, call):
    try:
        call()
    except grpc.RpcError as error:
        got = reason(error)
        check(name, got == (expected, "jaco"), got)
        return
    check(name, False, "the call succeeded")


cluster = cluster_pb2_grpc.ClusterStub(channel)
tokens = tokens_pb2_grpc.TokensStub(channel)
audit = audit_pb2_grpc.AuditStub(channel)
deploy = deploy_pb2_grpc.DeployStub(channel)
health = health_pb2_grpc.HealthStub(channel)

check("Health.Check", health.Check(health_pb2.HealthCheckRequest(service="jaco.v1.Tokens")).status == health_pb2.HealthCheckResponse.SERVING)
status = cluster.Status(cluster_pb2.StatusRequest())
check("Cluster.Status", status.initialized and status.ready, status)
fails_with("Cluster.Init twice", "already_initialized", lambda: cluster.Init(cluster_pb2.InitRequest()))
fails_with("Cluster.IssueClientCertificate with no request", "validation_failed",
           lambda: cluster.IssueClientCertificate(cluster_pb2.IssueClientCertificateRequest(name="py", certificate_request_pem="x"), metadata=auth))

issued = tokens.Issue(tokens_pb2.IssueRequest(identity="py-client", ttl_ms=3_600_000), metadata=auth)
check("Tokens.Issue", issued.secret.startswith("jaco_") and issued.token.expires_at_ms > 0)
fails_with("Tokens.Issue duplicate", "duplicate_identity", lambda: tokens.Issue(tokens_pb2.IssueRequest(identity="py-client"), metadata=auth))
fails_with("Tokens.List without a token", "token_invalid", lambda: tokens.List(tokens_pb2.ListRequest()))
got = tokens.Get(tokens_pb2.GetRequest(identity="py-client"), metadata=auth)
check("Tokens.Get", got.token.accessor_id == issued.token.accessor_id)
fails_with("Tokens.Get unknown", "not_found", lambda: tokens.Get(tokens_pb2.GetRequest(identity="nobody"), metadata=auth))
page = tokens.List(tokens_pb2.ListRequest(page_size=2), metadata=auth)
check("Tokens.List pages", len(page.tokens) == 2 and page.next_page_token != "")
rotated = tokens.Rotate(tokens_pb2.RotateRequest(identity="py-client", grace_ms=60_000), metadata=auth)
check("Tokens.Rotate", rotated.secret != issued.secret and rotated.token.grace_ends_at_ms > 0)
fails_with("Tokens.Rotate in a grace window", "failed_precondition", lambda: tokens.Rotate(tokens_pb2.RotateRequest(identity="py-client"), metadata=auth))
revoked = tokens.Revoke(tokens_pb2.RevokeRequest(identity="py-client"), metadata=auth)
check("Tokens.Revoke", revoked.token.revoked_at_ms > 0)
fails_with("a revoked token", "token_revoked", lambda: tokens.List(tokens_pb2.ListRequest(), metadata=[("authorization", "Bearer " + rotated.secret)]))
leak = tokens.Issue(tokens_pb2.IssueRequest(identity="py-leaked"), metadata=auth)
outcomes = tokens.RevokeLeaked(tokens_pb2.RevokeLeakedRequest(secrets=[leak.secret, "nonsense"]))
check("Tokens.RevokeLeaked (no token)", [o.result for o in outcomes.outcomes] == ["revoked", "malformed"], outcomes)

review = deploy.Validate(deploy_pb2.ValidateRequest(manifest=b"services:\n  web:\n    image: nginx\n"))
check("Deploy.Validate (no token)", list(review.services) == ["web"])
fails_with("Deploy.Validate bad schema", "validation_failed", lambda: deploy.Validate(deploy_pb2.ValidateRequest(manifest=b"services: [")))
applied = deploy.Apply(deploy_pb2.ApplyRequest(deployment="py", manifest=b"services:\n  web:\n    image: nginx\n"), metadata=auth)
check("Deploy.Apply", applied.revision == 1)

events = list(audit.Query(audit_pb2.AuditQuery(types=["token_issue"]), metadata=auth))
check("Audit.Query", any(e.payload.get("identity") == "py-client" for e in events))
check("Audit.VerifyChain", audit.VerifyChain(audit_pb2.VerifyChainRequest(), metadata=auth).intact)

snapshot = b"".join(chunk.data for chunk in cluster.SnapshotSave(cluster_pb2.SnapshotSaveRequest(), metadata=auth))
check("Cluster.SnapshotSave", snapshot.startswith(b"JACOSNAP"))
restored = cluster.SnapshotRestore(iter([cluster_pb2.SnapshotChunk(data=snapshot)]), metadata=auth)
check("Cluster.SnapshotRestore", restored.snapshot.records > 0)
fails_with("Cluster.SnapshotRestore damaged", "validation_failed",
           lambda: cluster.SnapshotRestore(iter([cluster_pb2.SnapshotChunk(data=snapshot[:-1] + b"x")]), metadata=auth))

# grpc.reflection.v1 has the same messages as v1alpha, whose Python classes grpcio-reflection ships.
reflect = channel.stream_stream(
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
    response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
answers = list(reflect(iter([
    reflection_pb2.ServerReflectionRequest(list_services=""),
    reflection_pb2.ServerReflectionRequest(file_containing_symbol="jaco.v1.Tokens.Get"),
])))
services = {s.name for s in answers[0].list_services_response.service}
check("reflection lists the services", {"jaco.v1.Tokens", "jaco.v1.Cluster", "jaco.v1.Audit", "jaco.v1.Deploy", "grpc.health.v1.Health"} <= services, services)
files = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in answers[1].file_descriptor_response.file_descriptor_proto]
check("reflection finds a method", any(f.name == "jaco/v1/tokens.proto" for f in files), [f.name for f in files])
print("all checks passed")
